"""The benchmarks run end to end on tiny settings and write a complete report.

No timing is asserted: the machine running the tests is shared and its speed varies.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def benchmarks(monkeypatch: pytest.MonkeyPatch):
    """The `benchmarks` package (it lives beside `src/`, not in the installed package)."""
    monkeypatch.syspath_prepend(str(REPO))
    import benchmarks.common

    return benchmarks.common


@pytest.fixture
def dvc_repo(tmp_path: Path) -> Path:
    """A one-stage DVC project (no git) whose pipeline is up to date."""
    repo = tmp_path / "dvc-project"
    repo.mkdir()
    (repo / "dvc.yaml").write_text(
        textwrap.dedent(
            """\
            stages:
              touch:
                cmd: python -c "open('out.txt', 'w').write('done')"
                outs:
                  - out.txt
            """
        )
    )
    dvc = str(Path(sys.executable).with_name("dvc"))
    for command in ([dvc, "init", "--no-scm", "-q"], [dvc, "repro", "-q"]):
        subprocess.run(command, cwd=repo, check=True, capture_output=True)
    return repo


def test_interleaved_alternates_order_and_warms_up_first(benchmarks) -> None:
    calls: list[str] = []
    variants = {name: (lambda name=name: calls.append(name) or len(calls)) for name in "ab"}
    warmups = {"a": lambda: calls.append("warm a")}

    results = benchmarks.interleaved(variants, repeats=3, warmups=warmups, progress=lambda _: None)

    assert calls == ["warm a", "b", "a", "b", "b", "a", "a", "b"]
    assert results == {"a": [3, 6, 7], "b": [4, 5, 8]}


def test_median(benchmarks) -> None:
    assert benchmarks.median([3.0, 1.0, 2.0]) == 2.0
    assert benchmarks.median([4.0, 1.0, 2.0, 3.0]) == 2.5


@pytest.mark.slow
def test_quick_run_writes_every_section(
    tmp_path: Path, processed_mnist: Path, dvc_repo: Path
) -> None:
    report = tmp_path / "reports" / "benchmarks.md"
    command = [
        sys.executable,
        "-m",
        "benchmarks.run",
        "--quick",
        f"--processed={processed_mnist}",
        f"--out={report}",
        f"--repo={dvc_repo}",
    ]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]

    text = report.read_text()
    for heading in (
        "## Targets",
        "## Pipeline overhead",
        "## Time to accuracy",
        "## Use of the hardware",
        "## Orchestration",
        "## Training settings",
    ):
        assert heading in text, heading
    assert "| dense " in text and "stage fit img/s" in text
    assert "dvc repro (nothing changed)" in text and "not timed" not in text
    assert "python -m convscope.train --help" in text
    assert "% of matmul peak" in text
    assert not list(report.parent.glob(".*tmp*")), "temporary report file left behind"
