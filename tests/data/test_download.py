"""The download logic against real files and a real HTTP server on loopback."""

from __future__ import annotations

import gzip
import hashlib
import logging
from pathlib import Path

import pytest
from omegaconf import DictConfig, OmegaConf

from convscope.data.download import (
    MIRROR_ENV,
    RemoteFile,
    RetryPolicy,
    download_dataset,
    download_from_config,
    mirror_order,
)
from convscope.errors import ConvscopeError

FAST = RetryPolicy(retries=2, backoff_seconds=0.01, timeout_seconds=5)
LABELS = "t10k-labels-idx1-ubyte.gz"  # the smallest real file: 4.5 kB


@pytest.fixture
def mnist_files(mnist_data_config: DictConfig) -> dict[str, RemoteFile]:
    """The four real MNIST files by name, with their configured content checksums."""
    return {
        spec.name: RemoteFile(name=spec.name, sha256=spec.sha256)
        for spec in mnist_data_config.files.values()
    }


@pytest.fixture
def offline_config(mnist_data_config: DictConfig) -> DictConfig:
    """conf/data/mnist.yaml without the public mirrors (unreachable here) and fast retries."""
    cfg = OmegaConf.merge(mnist_data_config, {"download": {"backoff_seconds": 0.01}})
    cfg.mirrors = []
    return cfg


def content_sha256(path: Path) -> str:
    return hashlib.sha256(gzip.decompress(path.read_bytes())).hexdigest()


def corrupted_gz(original: Path) -> bytes:
    """Valid gzip whose decompressed content differs from `original`'s in its last byte."""
    content = bytearray(gzip.decompress(original.read_bytes()))
    content[-1] ^= 0x01
    return gzip.compress(bytes(content))


def all_entries(folder: Path) -> list[str]:
    """Every name in `folder`, hidden ones included."""
    return sorted(path.name for path in folder.iterdir()) if folder.exists() else []


def test_downloads_the_real_files_over_http(
    mnist_mirror: Path, mnist_files: dict[str, RemoteFile], loopback_server, tmp_path: Path
) -> None:
    server = loopback_server(mnist_mirror)
    raw = tmp_path / "raw"
    paths = download_dataset(list(mnist_files.values()), raw, [server.url], FAST)
    assert all_entries(raw) == sorted(mnist_files)
    for path in paths:
        assert content_sha256(path) == mnist_files[path.name].sha256
    assert sorted(server.requests) == sorted(f"/{name}" for name in mnist_files)


def test_retries_a_failing_server_with_backoff(
    mnist_mirror: Path,
    mnist_files: dict[str, RemoteFile],
    loopback_server,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    server = loopback_server(mnist_mirror, fail_first=2)
    with caplog.at_level(logging.WARNING):
        download_dataset([mnist_files[LABELS]], tmp_path, [server.url], FAST)
    assert server.requests_for(LABELS) == 3
    assert content_sha256(tmp_path / LABELS) == mnist_files[LABELS].sha256
    failures = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(failures) == 2
    for line in failures:
        assert server.url in line and LABELS in line and "HTTP 503" in line
        assert "\n" not in line
    assert "retrying in 0.0 s" in failures[0]


def test_moves_on_to_the_next_mirror_after_the_retries(
    mnist_mirror: Path, mnist_files: dict[str, RemoteFile], loopback_server, tmp_path: Path
) -> None:
    broken = loopback_server(mnist_mirror, fail_first=100, fail_status=502)
    working = loopback_server(mnist_mirror)
    download_dataset([mnist_files[LABELS]], tmp_path, [broken.url, working.url], FAST)
    assert broken.requests_for(LABELS) == FAST.retries + 1
    assert working.requests_for(LABELS) == 1
    assert content_sha256(tmp_path / LABELS) == mnist_files[LABELS].sha256


def test_a_missing_file_is_not_retried(
    mnist_files: dict[str, RemoteFile], loopback_server, tmp_path: Path
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    server = loopback_server(empty)
    with pytest.raises(ConvscopeError, match=rf"could not download {LABELS} .*HTTP 404"):
        download_dataset([mnist_files[LABELS]], tmp_path / "raw", [server.url], FAST)
    assert server.requests_for(LABELS) == 1


def test_a_corrupted_file_names_both_checksums_and_leaves_nothing(
    mnist_mirror: Path, mnist_files: dict[str, RemoteFile], loopback_server, tmp_path: Path
) -> None:
    bad = corrupted_gz(mnist_mirror / LABELS)
    actual = hashlib.sha256(gzip.decompress(bad)).hexdigest()
    server = loopback_server(mnist_mirror, replacements={LABELS: bad})
    raw = tmp_path / "raw"
    with pytest.raises(ConvscopeError) as caught:
        download_dataset([mnist_files[LABELS]], raw, [server.url], FAST)
    message = str(caught.value)
    assert LABELS in message
    assert mnist_files[LABELS].sha256 in message
    assert actual in message
    assert "\n" not in message
    assert all_entries(raw) == []
    assert server.requests_for(LABELS) == 1  # a wrong file is not fetched again from there


def test_an_html_page_is_rejected_and_the_next_mirror_used(
    mnist_mirror: Path,
    mnist_files: dict[str, RemoteFile],
    loopback_server,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    page = b"<!DOCTYPE html><html><body>Please sign in</body></html>"
    portal = loopback_server(mnist_mirror, replacements={LABELS: page})
    working = loopback_server(mnist_mirror)
    with caplog.at_level(logging.WARNING):
        download_dataset([mnist_files[LABELS]], tmp_path, [portal.url, working.url], FAST)
    assert content_sha256(tmp_path / LABELS) == mnist_files[LABELS].sha256
    assert "HTML" in caplog.text and portal.url in caplog.text


def test_a_cut_off_transfer_is_retried_then_leaves_nothing(
    mnist_mirror: Path, mnist_files: dict[str, RemoteFile], loopback_server, tmp_path: Path
) -> None:
    server = loopback_server(mnist_mirror, cut_short={LABELS})
    raw = tmp_path / "raw"
    with pytest.raises(ConvscopeError, match=rf"could not download {LABELS}.*after 3 attempts"):
        download_dataset([mnist_files[LABELS]], raw, [server.url], FAST)
    assert server.requests_for(LABELS) == 3
    assert all_entries(raw) == []


@pytest.mark.parametrize("form", ["folder", "file_url", "http_url"])
def test_convscope_mirror_forms(
    form: str,
    mnist_mirror: Path,
    offline_config: DictConfig,
    loopback_server,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    mirror = {
        "folder": lambda: str(mnist_mirror),
        "file_url": lambda: mnist_mirror.resolve().as_uri(),
        "http_url": lambda: loopback_server(mnist_mirror).url,
    }[form]()
    monkeypatch.setenv(MIRROR_ENV, mirror)
    paths = download_from_config(offline_config, tmp_path / "raw")
    assert [path.name for path in paths] == [spec.name for spec in offline_config.files.values()]
    for path, spec in zip(paths, offline_config.files.values(), strict=True):
        assert content_sha256(path) == spec.sha256


def test_the_env_mirror_comes_before_the_configured_ones() -> None:
    assert mirror_order("/srv/mnist", ["https://a/", "https://b/"]) == [
        "/srv/mnist",
        "https://a/",
        "https://b/",
    ]
    assert mirror_order(None, ["https://a/"]) == ["https://a/"]
    with pytest.raises(ConvscopeError, match=r"no mirror to download from: set \$CONVSCOPE_MIRROR"):
        mirror_order(None, [])
    with pytest.raises(ConvscopeError, match="unsupported scheme 'ftp'"):
        mirror_order("ftp://example.org/mnist", [])


def test_valid_files_already_present_are_not_fetched_again(
    mnist_mirror: Path,
    mnist_files: dict[str, RemoteFile],
    loopback_server,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    server = loopback_server(mnist_mirror)
    files = [mnist_files[LABELS], mnist_files["train-labels-idx1-ubyte.gz"]]
    download_dataset(files, tmp_path, [server.url], FAST)
    assert len(server.requests) == 2
    with caplog.at_level(logging.INFO):
        download_dataset(files, tmp_path, [server.url], FAST)
    assert len(server.requests) == 2
    assert caplog.text.count("already present") == 2


def test_a_present_but_wrong_file_is_replaced(
    mnist_mirror: Path, mnist_files: dict[str, RemoteFile], tmp_path: Path
) -> None:
    (tmp_path / LABELS).write_bytes(corrupted_gz(mnist_mirror / LABELS))
    (tmp_path / f".{LABELS.removesuffix('.gz')}.tmp-123.gz").write_bytes(
        b"left by a killed download"
    )
    download_dataset([mnist_files[LABELS]], tmp_path, [str(mnist_mirror)], FAST)
    assert all_entries(tmp_path) == [LABELS]
    assert content_sha256(tmp_path / LABELS) == mnist_files[LABELS].sha256


def test_a_wrong_file_everywhere_is_the_final_error(
    mnist_mirror: Path, mnist_files: dict[str, RemoteFile], tmp_path: Path
) -> None:
    mirrors = []
    for name in ("first", "second"):
        folder = tmp_path / name
        folder.mkdir()
        (folder / LABELS).write_bytes(corrupted_gz(mnist_mirror / LABELS))
        mirrors.append(str(folder))
    with pytest.raises(ConvscopeError) as caught:
        download_dataset([mnist_files[LABELS]], tmp_path / "raw", mirrors, FAST)
    message = str(caught.value)
    assert message.count(f"expected {mnist_files[LABELS].sha256}") == 2
    assert all(mirror in message for mirror in mirrors)
    assert all_entries(tmp_path / "raw") == []
