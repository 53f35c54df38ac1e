"""Stage `preprocess`: split the raw IDX files into train/val/test arrays and summarise them.

    python -m convscope.preprocess data=mnist

Writes `paths.processed` (the arrays and meta.json), `<paths.reports>/data/summary.json` and
`<paths.reports>/data/samples.png`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from convscope.cli import stage
from convscope.data.config import DataConfig
from convscope.data.preprocess import preprocess_dataset
from convscope.paths import PathsConfig


@dataclass(frozen=True)
class PreprocessStageConfig:
    """The preprocess stage's config (`conf/preprocess.yaml`): the groups it reads."""

    paths: PathsConfig
    data: DataConfig


@stage(PreprocessStageConfig)
def main(cfg: PreprocessStageConfig) -> None:
    """Preprocess `cfg.data` from `cfg.paths.raw` into `cfg.paths.processed` and the reports."""
    preprocess_dataset(
        cfg.data,
        raw_dir=Path(cfg.paths.raw),
        processed_dir=Path(cfg.paths.processed),
        reports_dir=Path(cfg.paths.reports) / "data",
    )


if __name__ == "__main__":
    main()
