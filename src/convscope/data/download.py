"""Fetch a dataset's gzip files from the first mirror that serves them with the right content.

A mirror is a local folder, a `file://` URL or an `http(s)://` URL under which the files sit
by name. `$CONVSCOPE_MIRROR`, when set, is tried before the configured mirrors. A network
hiccup (connection error, timeout, HTTP 5xx/429, cut-off transfer) is retried on the same
mirror with exponential backoff; a missing or wrong file moves on to the next mirror at once.
Every file is checked by the SHA-256 of its decompressed content, because mirrors re-compress
the same data differently. Files are written beside their final name and renamed only once
verified, so the raw folder never holds a partial or wrong file.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
import urllib.parse
import urllib.request
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import requests
import urllib3
from tqdm import tqdm

from convscope.atomic import atomic_path, leftovers
from convscope.data.config import DataConfig
from convscope.data.idx import InvalidFileError, read_gzip
from convscope.data.mirrors import MIRROR_ENV, mirror_order
from convscope.errors import ConvscopeError

TRANSIENT_HTTP_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})
CHUNK_BYTES = 1 << 16

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RemoteFile:
    """One file to fetch: its name on the mirrors and the SHA-256 of its decompressed content."""

    name: str
    sha256: str


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to retry one mirror after a transient failure."""

    retries: int
    backoff_seconds: float
    timeout_seconds: float

    def delay(self, failed_attempts: int) -> float:
        """Seconds to wait after the given number of failed attempts (doubling each time)."""
        return self.backoff_seconds * 2 ** (failed_attempts - 1)


class TransientError(Exception):
    """A failure worth retrying on the same mirror."""


class MirrorError(Exception):
    """This mirror cannot provide this file; try the next one."""


def download_dataset(
    files: Sequence[RemoteFile], raw_dir: Path, mirrors: Sequence[str], policy: RetryPolicy
) -> list[Path]:
    """Make `raw_dir` hold every file in `files` with verified content; return their paths."""
    raw_dir.mkdir(parents=True, exist_ok=True)
    for leftover in leftovers(raw_dir):
        log.info("removing %s left by an interrupted download", leftover)
        leftover.unlink()
    return [download_file(file, raw_dir, mirrors, policy) for file in files]


def download_file(
    file: RemoteFile, raw_dir: Path, mirrors: Sequence[str], policy: RetryPolicy
) -> Path:
    """Fetch one file into `raw_dir` unless a copy with the right content is already there."""
    final = raw_dir / file.name
    if final.exists():
        problem = content_problem(final, file)
        if problem is None:
            log.info("%s: already present with the expected content, not fetched again", final)
            return final
        log.warning("%s: present but %s; removing it and fetching again", final, problem)
        final.unlink()
    failures = []
    for mirror in mirrors:
        try:
            fetch_from_mirror(mirror, file, final, policy)
        except MirrorError as err:
            failures.append(f"{mirror}: {err}")
            continue
        log.info("%s: fetched from %s, content SHA-256 verified", final, mirror)
        return final
    raise ConvscopeError(f"could not download {file.name} from any mirror: {'; '.join(failures)}")


def fetch_from_mirror(mirror: str, file: RemoteFile, final: Path, policy: RetryPolicy) -> None:
    """Fetch `file` from one mirror to `final`, retrying transient failures with backoff."""
    source = file_location(mirror, file.name)
    attempts = policy.retries + 1
    for attempt in range(1, attempts + 1):
        try:
            with atomic_path(final) as temp:
                transfer(source, temp, file.name, policy.timeout_seconds)
                problem = content_problem(temp, file)
                if problem is not None:
                    raise MirrorError(problem)
            return
        except MirrorError as err:
            log.warning("mirror %s, file %s: %s; trying the next mirror", mirror, file.name, err)
            raise
        except TransientError as err:
            if attempt == attempts:
                log.warning(
                    "mirror %s, file %s: %s (attempt %d of %d); trying the next mirror",
                    *(mirror, file.name, err, attempt, attempts),
                )
                raise MirrorError(f"{err} (after {attempts} attempts)") from None
            delay = policy.delay(attempt)
            log.warning(
                "mirror %s, file %s: %s (attempt %d of %d); retrying in %.1f s",
                *(mirror, file.name, err, attempt, attempts, delay),
            )
            time.sleep(delay)


def file_location(mirror: str, name: str) -> str:
    """The URL or local path of file `name` on `mirror`."""
    if mirror.startswith(("http://", "https://")):
        return mirror.rstrip("/") + "/" + urllib.parse.quote(name)
    if mirror.startswith("file://"):
        folder = urllib.request.url2pathname(urllib.parse.urlsplit(mirror).path)
        return str(Path(folder) / name)
    return str(Path(mirror) / name)


def transfer(source: str, dest: Path, name: str, timeout_seconds: float) -> None:
    """Copy the bytes at `source` (URL or local path) to `dest`, with a progress bar."""
    if source.startswith(("http://", "https://")):
        transfer_http(source, dest, name, timeout_seconds)
    else:
        transfer_local(Path(source), dest, name)


def transfer_http(url: str, dest: Path, name: str, timeout_seconds: float) -> None:
    """Stream `url` to `dest` exactly as served (no transparent decoding of gzip)."""
    try:
        with requests.get(url, stream=True, timeout=timeout_seconds) as response:
            status = f"HTTP {response.status_code} {response.reason}"
            if response.status_code in TRANSIENT_HTTP_STATUS:
                raise TransientError(status)
            if response.status_code != 200:
                raise MirrorError(status)
            declared = response.headers.get("Content-Length")
            total = int(declared) if declared and declared.isdigit() else None
            chunks = response.raw.stream(CHUNK_BYTES, decode_content=False)
            received = write_with_progress(chunks, dest, name, total)
    except (requests.ConnectionError, requests.Timeout, urllib3.exceptions.HTTPError) as err:
        raise TransientError(short_reason(err)) from None
    if total is not None and received != total:
        raise TransientError(f"transfer ended after {received} of {total} bytes")


def transfer_local(source: Path, dest: Path, name: str) -> None:
    """Copy a file from a local mirror folder to `dest`."""
    try:
        stream = source.open("rb")
    except FileNotFoundError:
        raise MirrorError(f"no such file {source}") from None
    except OSError as err:
        raise MirrorError(f"cannot read {source} ({err.strerror})") from None
    with stream:
        size = os.fstat(stream.fileno()).st_size
        write_with_progress(iter(lambda: stream.read(CHUNK_BYTES), b""), dest, name, size)


def write_with_progress(chunks: Iterable[bytes], dest: Path, name: str, total: int | None) -> int:
    """Write `chunks` to `dest` (under a tqdm byte counter on a terminal); return the number
    of bytes written."""
    written = 0
    with (
        dest.open("wb") as out,
        # disable=None: a bar on a terminal only; in a log (dvc repro, CI) its redraws are noise.
        tqdm(
            total=total, desc=name, unit="B", unit_scale=True, unit_divisor=1024, disable=None
        ) as bar,
    ):
        for chunk in chunks:
            out.write(chunk)
            written += len(chunk)
            bar.update(len(chunk))
    return written


def content_problem(path: Path, file: RemoteFile) -> str | None:
    """What is wrong with the content of `path` as a copy of `file`, or None if it is right."""
    try:
        actual = hashlib.sha256(read_gzip(path)).hexdigest()
    except InvalidFileError as err:
        return err.reason
    if actual != file.sha256:
        return f"decompressed content has SHA-256 {actual}, expected {file.sha256}"
    return None


def short_reason(err: Exception) -> str:
    """A one-line description of a network error (its innermost cause, when urllib3 has one)."""
    cause = err.args[0] if err.args and isinstance(err.args[0], Exception) else err
    reason = getattr(cause, "reason", None) or cause
    return f"{type(reason).__name__}: {reason}".replace("\n", " ")


def download_from_config(data: DataConfig, raw_dir: Path) -> list[Path]:
    """Download the files of dataset config `data` (conf/data/*.yaml) into `raw_dir`.

    Mirrors: `$CONVSCOPE_MIRROR` first, if set, then `data.mirrors`.
    """
    files = [RemoteFile(name=spec.name, sha256=spec.sha256.lower()) for spec in data.files.values()]
    settings = data.download
    policy = RetryPolicy(
        retries=settings.retries,
        backoff_seconds=settings.backoff_seconds,
        timeout_seconds=settings.timeout_seconds,
    )
    mirrors = mirror_order(os.environ.get(MIRROR_ENV), data.mirrors)
    return download_dataset(files, raw_dir, mirrors, policy)
