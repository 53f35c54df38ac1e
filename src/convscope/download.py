"""Stage `download`: fetch and verify the dataset's raw IDX files into `paths.raw`.

    python -m convscope.download data=mnist

Mirrors: `$CONVSCOPE_MIRROR` (a folder, file:// or http(s):// URL) first, then `data.mirrors`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from convscope.cli import stage
from convscope.data.config import DataConfig
from convscope.data.download import download_from_config
from convscope.paths import PathsConfig


@dataclass(frozen=True)
class DownloadStageConfig:
    """The download stage's config (`conf/download.yaml`): the groups it reads."""

    paths: PathsConfig
    data: DataConfig


@stage(DownloadStageConfig)
def main(cfg: DownloadStageConfig) -> None:
    """Download the files of `cfg.data` into `cfg.paths.raw`, skipping those already valid."""
    download_from_config(cfg.data, Path(cfg.paths.raw))


if __name__ == "__main__":
    main()
