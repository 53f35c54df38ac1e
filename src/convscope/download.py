"""Stage `download`: fetch and verify the dataset's raw IDX files into `paths.raw`.

    python -m convscope.download data=mnist

Mirrors: `$CONVSCOPE_MIRROR` (a folder, file:// or http(s):// URL) first, then `data.mirrors`.
"""

from __future__ import annotations

from pathlib import Path

from convscope.cli import stage
from convscope.config import StageConfig
from convscope.data.download import download_from_config


@stage
def main(cfg: StageConfig) -> None:
    """Download the files of `cfg.data` into `cfg.paths.raw`, skipping those already valid."""
    download_from_config(cfg.data, Path(cfg.paths.raw))


if __name__ == "__main__":
    main()
