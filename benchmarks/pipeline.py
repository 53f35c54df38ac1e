"""The pipeline end to end: `dvc repro` of one seed, and a clean clone's `make repro`.

Both start from `git clone` of the repository's HEAD (committed code only) into a temporary
folder; the raw MNIST files come from `CONVSCOPE_MIRROR` (this machine is offline).

- One seed: `seeds: 1` in the clone's params.yaml, then `dvc repro` with the benchmarks'
  own environment (its `.venv` already built). The training seconds are the fit times the
  train stage records in each `run.json` (every epoch, validation included); the stage fixed
  cost is the `dvc repro` wall time minus their sum: process starts and imports, download,
  preprocess, figures, saving and logging the model, evaluation, comparison. Test accuracy
  is the evaluate stage's, on the 10,000 test images.
- Clean clone (`--clean-clone` only: it runs the README's `make repro` with every seed of
  params.yaml, about half an hour here): `make setup` (the `.venv`, installed by uv from
  its download cache as this machine has it), then `make repro`, timed apart, so the table
  gives the time from nothing and the time with `.venv` already built.

One run each: these check the end-to-end figures against their targets; they are not
comparisons.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import pandas as pd
from omegaconf import OmegaConf

from benchmarks.common import REPO, log
from benchmarks.orchestration import wall_time
from convscope.records.metrics import RECORD_FILE, EvaluationRecord, evaluation_dir
from convscope.records.run import RUN_FILE, RunRecord
from convscope.records.seeds import seed_dir

# Test accuracy of one seed each model must keep with the default recipe (issue 11).
TARGETS = {"dense": 0.984, "lenet5": 0.991, "stacked_conv": 0.994}


def clone(destination: Path, repo: Path = REPO) -> Path:
    """`git clone` of `repo`'s HEAD into `destination` (which must not exist)."""
    subprocess.run(
        ["git", "clone", "--quiet", str(repo), str(destination)], check=True, capture_output=True
    )
    return destination


def _environment(bin_dir: Path | None) -> dict[str, str]:
    """The stages' environment: a mirror is required; MLflow writes into the clone."""
    if not os.environ.get("CONVSCOPE_MIRROR"):
        raise RuntimeError("CONVSCOPE_MIRROR is not set: the pipeline benchmark downloads MNIST")
    env = {k: v for k, v in os.environ.items() if k not in ("MLFLOW_TRACKING_URI", "VIRTUAL_ENV")}
    if bin_dir is not None:
        env["PATH"] = f"{bin_dir}:{env['PATH']}"
    return env


def pipeline_table(
    workspace: Path, models: Sequence[str], wall_seconds: float, seed: int
) -> pd.DataFrame:
    """One row per model (training seconds, epochs, test accuracy against its target) and a
    total row whose fixed cost is the wall time minus the training seconds."""
    rows = []
    for model in models:
        run = RunRecord.read(seed_dir(workspace / "models" / model, seed) / RUN_FILE)
        record_dir = seed_dir(evaluation_dir(workspace / "reports", model), seed)
        accuracy = EvaluationRecord.read(record_dir / RECORD_FILE).test_accuracy
        target = TARGETS.get(model)
        rows.append(
            {
                "model": model,
                "training s": round(run.train_seconds, 1),
                "epochs run": run.epochs,
                "test accuracy": round(accuracy, 4),
                "target": target,
                "met": "-" if target is None else ("yes" if accuracy >= target else "no"),
            }
        )
    table = pd.DataFrame(rows)
    training = float(table["training s"].sum())
    total = {
        "model": "all",
        "training s": round(training, 1),
        "dvc repro wall s": round(wall_seconds, 1),
        "fixed cost s": round(wall_seconds - training, 1),
    }
    table = pd.concat([table, pd.DataFrame([total])], ignore_index=True)
    return table.astype(object).where(table.notna(), "")  # blank cells, not "nan"


def measure_one_seed(progress: Callable[[str], None] = log) -> pd.DataFrame:
    """`dvc repro` of the committed pipeline with one seed, in a fresh clone."""
    bin_dir = Path(sys.executable).parent
    env = _environment(bin_dir)
    with tempfile.TemporaryDirectory(prefix="convscope-pipeline-") as tmp:
        workspace = clone(Path(tmp) / "clone")
        params = OmegaConf.load(workspace / "params.yaml")
        params.seeds = 1
        OmegaConf.save(params, workspace / "params.yaml")
        seed = int(OmegaConf.load(workspace / "conf" / "train" / "default.yaml").seed)
        progress(f"pipeline: dvc repro, one seed, in {workspace}")
        wall = wall_time([str(bin_dir / "dvc"), "repro"], workspace, env)
        table = pipeline_table(workspace, list(params.architectures), wall, seed)
    progress(f"  dvc repro {wall:.0f} s; training {table['training s'].iloc[-1]:.0f} s")
    return table


def measure_clean_clone(progress: Callable[[str], None] = log) -> pd.DataFrame:
    """The README's `make repro` in a fresh clone with no `.venv`: set-up and pipeline."""
    env = _environment(None)
    with tempfile.TemporaryDirectory(prefix="convscope-clean-clone-") as tmp:
        started = time.perf_counter()
        workspace = clone(Path(tmp) / "clone")
        progress(f"clean clone: make setup, then make repro, in {workspace}")
        setup = wall_time(["make", "setup"], workspace, env)
        repro = wall_time(["make", "repro"], workspace, env)
        total = time.perf_counter() - started
    progress(f"  clean clone {total:.0f} s (.venv {setup:.0f} s)")
    return pd.DataFrame(
        [
            {"part": "git clone + make setup (.venv)", "s": round(total - repro, 1)},
            {"part": "make repro with .venv built", "s": round(repro, 1)},
            {"part": "clean clone: git clone + make repro", "s": round(total, 1)},
        ]
    )
