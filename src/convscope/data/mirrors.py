"""Where a dataset's raw files are fetched from: `$CONVSCOPE_MIRROR` first, then `data.mirrors`.

Read by the download stage (the order to try) and by the stages that log MLflow dataset inputs
(the source they name). The mirror depends on the environment, so it is never written into a
DVC output: the download logs which mirror served each file, and runs carry it in MLflow.
"""

from __future__ import annotations

import os
import urllib.parse
from collections.abc import Iterable
from pathlib import Path

from convscope.data.config import DataConfig
from convscope.errors import ConvscopeError

MIRROR_ENV = "CONVSCOPE_MIRROR"


def mirror_order(env_mirror: str | None, mirrors: Iterable[str]) -> list[str]:
    """Mirrors in the order to try them: `$CONVSCOPE_MIRROR` (if set) first, then `mirrors`."""
    ordered = ([env_mirror] if env_mirror else []) + list(mirrors)
    for mirror in ordered:
        scheme = urllib.parse.urlsplit(mirror).scheme
        if "://" in mirror and scheme not in ("http", "https", "file"):
            raise ConvscopeError(
                f"mirror {mirror!r}: unsupported scheme {scheme!r}, "
                "expected a folder path or a file://, http:// or https:// URL"
            )
    if not ordered:
        raise ConvscopeError(f"no mirror to download from: set ${MIRROR_ENV} or data.mirrors")
    return ordered


def source_uri(data: DataConfig, fallback: Path) -> str:
    """Where this environment fetches the dataset's files first: `$CONVSCOPE_MIRROR` or the
    first of `data.mirrors`, as a URL (a folder becomes a file:// URL); `fallback` if there is
    no mirror (data that came from elsewhere, such as a DVC remote).

    The first mirror serves the files unless it fails; the download stage's log names the
    mirror that served each one.
    """
    mirrors = ([os.environ[MIRROR_ENV]] if os.environ.get(MIRROR_ENV) else []) + list(data.mirrors)
    first = mirrors[0] if mirrors else str(fallback)
    return first if "://" in first else Path(first).resolve().as_uri()
