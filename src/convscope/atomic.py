"""Write outputs so that a reader never sees a half-written file or folder.

A write that fails for lack of room (`DISK_FULL_ERRNOS`) is re-raised naming the
output it was writing, since the OSError of a `write()` names no file.
"""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

TEMP_MARK = ".tmp-"  # in the name of every temporary file or folder made here
DISK_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EFBIG, errno.EDQUOT})


def is_disk_full(err: BaseException) -> bool:
    """True for an OSError that says the disk, a quota or the file-size limit is full."""
    return isinstance(err, OSError) and err.errno in DISK_FULL_ERRNOS


@contextmanager
def _naming(path: Path) -> Iterator[None]:
    """Re-raise a disk-full OSError that names no file as one naming `path`."""
    try:
        yield
    except OSError as err:
        if is_disk_full(err) and not err.filename:
            raise OSError(err.errno, os.strerror(err.errno), str(path)) from err
        raise


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside `path` (same suffix); rename it to `path` on success.

    On an exception the temporary file is removed and `path` is left as it was.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}{TEMP_MARK}{os.getpid()}{path.suffix}")
    try:
        with _naming(path):
            yield tmp
            os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


@contextmanager
def atomic_dir(final: Path) -> Iterator[Path]:
    """Yield an empty folder beside `final`; on success it replaces `final` as a whole."""
    final.parent.mkdir(parents=True, exist_ok=True)
    temp = Path(tempfile.mkdtemp(dir=final.parent, prefix=f".{final.name}{TEMP_MARK}"))
    try:
        with _naming(final):
            yield temp
        umask = os.umask(0)
        os.umask(umask)
        temp.chmod(0o777 & ~umask)  # mkdtemp made it private; give it the usual permissions
        if final.exists():
            # os.replace cannot overwrite a non-empty folder: move the old one aside first.
            old = temp.with_name(temp.name + ".old")
            os.replace(final, old)
            os.replace(temp, final)
            shutil.rmtree(old)
        else:
            os.replace(temp, final)
    finally:
        shutil.rmtree(temp, ignore_errors=True)


def leftovers(folder: Path) -> list[Path]:
    """Temporary files and folders that a killed process left in `folder`."""
    return sorted(folder.glob(f".*{TEMP_MARK}*"))


def write_text(path: Path, text: str) -> None:
    """Atomically write `text` to `path`."""
    with atomic_path(path) as tmp:
        tmp.write_text(text)
