"""Orchestration: `dvc repro` when nothing changed, and start-up times of the entry points.

Wall times of whole commands (process start included), run from the repository root.
`dvc repro` is timed only when `dvc status` reports the pipeline up to date, so the
benchmark never trains anything; otherwise its row says which stages are out of date.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import pandas as pd

from benchmarks.common import interleaved, log, median


def wall_time(command: Sequence[str], cwd: Path, env: Mapping[str, str] | None = None) -> float:
    """Seconds a command takes from start to exit (in `env`, default: this process's);
    raises with the end of its output if it fails."""
    start = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        tail = (done.stdout + done.stderr)[-3000:]
        raise RuntimeError(f"{' '.join(command)} failed in {cwd}:\n{tail}")
    return seconds


def out_of_date_stages(dvc: str, repo: Path) -> list[str]:
    """Stages `dvc status` reports as changed (empty when the pipeline is up to date)."""
    done = subprocess.run(
        [dvc, "status", "--json"], cwd=repo, capture_output=True, text=True, check=True
    )
    return sorted(json.loads(done.stdout or "{}"))


def measure_orchestration(
    repo: Path,
    repeats: int,
    warmup: bool = True,
    tensorflow_import: bool = True,
    progress: Callable[[str], None] = log,
) -> pd.DataFrame:
    """Median wall time of `dvc status`, `dvc repro` (if up to date), the train stage's
    `--help` and (if `tensorflow_import`) the import of the trainer, run in `repo`;
    `warmup` runs each once untimed first (file-system caches)."""
    dvc = str(Path(sys.executable).with_name("dvc"))
    progress(f"orchestration: {repo}")
    stale = out_of_date_stages(dvc, repo)
    commands = {
        "dvc status": [dvc, "status"],
        "python -m convscope.train --help": [sys.executable, "-m", "convscope.train", "--help"],
    }
    if tensorflow_import:
        commands["python -c 'import convscope.training.trainer'"] = [
            sys.executable,
            "-c",
            "import convscope.training.trainer",
        ]
    if not stale:
        commands["dvc repro (nothing changed)"] = [dvc, "repro"]
    runs = interleaved(
        {name: _runner(command, repo) for name, command in commands.items()},
        repeats=repeats,
        warmup=warmup,
        progress=progress,
    )
    rows = [
        {"command": name, "median s": round(median(times), 2), "runs s": _list(times)}
        for name, times in runs.items()
    ]
    if stale:
        rows.append(
            {
                "command": "dvc repro (nothing changed)",
                "median s": None,
                "runs s": f"not timed: out of date: {', '.join(stale)} (run `dvc repro` first)",
            }
        )
    return pd.DataFrame(rows)


def _runner(command: list[str], repo: Path) -> Callable[[], float]:
    return lambda: wall_time(command, repo)


def _list(times: Sequence[float]) -> str:
    return ", ".join(f"{t:.2f}" for t in times)
