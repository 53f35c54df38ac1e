"""The suite's MNIST fixture (tests/conftest.py), run by a real pytest in a subprocess.

A tiny test file asks for `mnist_mirror`; tests/conftest.py is loaded as a plugin, so the
fixture under test is the suite's own. Without MNIST the data test is skipped, except under
CI=true, where the run fails with a message saying why; a test that needs no data runs either
way. An http:// mirror is downloaded from once.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from convscope.data.download import MIRROR_ENV

TESTS = Path(__file__).resolve().parent
MNIST_FILES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)
TINY_TESTS = f"""
from pathlib import Path


def test_needs_mnist(mnist_mirror: Path) -> None:
    assert sorted(p.name for p in mnist_mirror.iterdir()) == sorted({MNIST_FILES!r})


def test_needs_no_data() -> None:
    assert True
"""


def run_pytest(folder: Path, mirror: str, ci: str | None) -> subprocess.CompletedProcess[str]:
    """Run pytest on the tiny tests in `folder` with the suite's conftest as a plugin."""
    (folder / "test_tiny.py").write_text(TINY_TESTS)
    env = {key: value for key, value in os.environ.items() if key != "CI"}
    env |= {MIRROR_ENV: mirror, "PYTHONPATH": str(TESTS)}
    if ci is not None:
        env["CI"] = ci
    command = [sys.executable, "-m", "pytest", "-p", "conftest", "-p", "no:cacheprovider"]
    return subprocess.run(
        [*command, "-rs", "test_tiny.py"],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )


def test_missing_mirror_fails_the_run_under_ci(tmp_path: Path) -> None:
    hidden = tmp_path / "no-mirror"
    done = run_pytest(tmp_path, str(hidden), ci="true")
    assert done.returncode == 1, done.stdout
    assert "1 passed, 1 error" in done.stdout
    assert (
        f"CI=true and MNIST is missing: {MIRROR_ENV}={hidden} {hidden} lacks "
        "train-images-idx3-ubyte.gz" in done.stdout
    )
    assert "CI must run this test, not skip it" in done.stdout


def test_missing_mirror_skips_with_the_reason_outside_ci(tmp_path: Path) -> None:
    hidden = tmp_path / "no-mirror"
    done = run_pytest(tmp_path, str(hidden), ci=None)
    assert done.returncode == 0, done.stdout
    assert "1 passed, 1 skipped" in done.stdout
    assert f"MNIST is missing: {MIRROR_ENV}={hidden} {hidden} lacks train-images" in done.stdout


def test_http_mirror_is_downloaded_from_once(
    mnist_mirror: Path,
    loopback_server: Callable[..., object],
    tmp_path: Path,
) -> None:
    server = loopback_server(mnist_mirror)
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    done = run_pytest(run_dir, server.url, ci="true")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 passed" in done.stdout
    assert sorted(server.requests) == sorted(f"/{name}" for name in MNIST_FILES)


def test_http_mirror_that_serves_nothing_fails_the_run_under_ci(
    tmp_path: Path, loopback_server: Callable[..., object]
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    server = loopback_server(empty)
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    done = run_pytest(run_dir, server.url, ci="true")
    assert done.returncode == 1, done.stdout
    assert "1 passed, 1 error" in done.stdout
    assert (
        f"CI=true and MNIST is missing: {MIRROR_ENV}={server.url} did not serve it" in done.stdout
    )
    assert "HTTP 404" in done.stdout
