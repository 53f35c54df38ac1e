"""The pipeline end to end: `dvc repro` of one seed, and a clean clone's `make repro`.

Both start from `git clone` of the repository's HEAD (committed code only), the one-seed
runs into temporary folders, the clean clone into a folder the caller names; the raw MNIST
files come from `CONVSCOPE_MIRROR` (this machine is offline).

- One seed: `seeds: 1` in the clone's params.yaml, then `dvc repro` with the benchmarks'
  own environment (its `.venv` already built), `repeats` times, each in a fresh clone;
  medians over the runs. The training seconds of a model are its `model.fit` call as the
  train stage times it (the `time_fit_seconds` metric of its MLflow run: every epoch,
  validation, and the fit's set-up and graph tracing); "epochs s" is the part inside the
  epochs (`run.json`'s `train_seconds`). The stage fixed cost of a run is its `dvc repro`
  wall time minus the sum of its fit times: process starts and imports, download,
  preprocess, figures, saving and logging the model, evaluation, comparison. Test accuracy
  is the evaluate stage's, on the 10,000 test images (the same on every run on one
  machine so far; another CPU can change it, as oneDNN picks other kernels there).
- Clean clone (`--clean-clone` only: it runs the README's `make repro` with every seed of
  params.yaml, about eight minutes here): `make setup` (the `.venv`, installed by uv from
  its download cache as this machine has it), then `make repro`, timed apart, so the table
  gives the time from nothing and the time with `.venv` already built. One run, first of
  all the benchmarks, which then read its processed data and time its up-to-date
  pipeline.
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
from mlflow.tracking import MlflowClient
from omegaconf import OmegaConf

from benchmarks.common import REPO, log, median
from benchmarks.orchestration import wall_time
from convscope.records.metrics import RECORD_FILE, EvaluationRecord, evaluation_dir
from convscope.records.run import RUN_FILE, RunRecord
from convscope.records.seeds import seed_dir
from convscope.training.spans import metric_name

# Test accuracy of one seed each model must keep with the default recipe (issue 11).
TARGETS = {"dense": 0.984, "lenet5": 0.991, "stacked_conv": 0.994}


def clone(destination: Path, repo: Path = REPO) -> Path:
    """`git clone` of `repo`'s HEAD into `destination` (which must not exist)."""
    subprocess.run(
        ["git", "clone", "--quiet", str(repo), str(destination)], check=True, capture_output=True
    )
    return destination


MISSING_MIRROR = "CONVSCOPE_MIRROR is not set: the pipeline benchmarks download MNIST"


def _environment(bin_dir: Path | None) -> dict[str, str]:
    """The stages' environment: a mirror is required; MLflow writes into the clone."""
    if not os.environ.get("CONVSCOPE_MIRROR"):
        raise RuntimeError(MISSING_MIRROR)
    env = {k: v for k, v in os.environ.items() if k not in ("MLFLOW_TRACKING_URI", "VIRTUAL_ENV")}
    if bin_dir is not None:
        env["PATH"] = f"{bin_dir}:{env['PATH']}"
    return env


def fit_seconds(run: RunRecord) -> float:
    """The `model.fit` call's seconds of a training, as its MLflow run records them."""
    return float(
        MlflowClient(run.tracking_uri).get_run(run.run_id).data.metrics[metric_name("fit")]
    )


def pipeline_table(
    workspace: Path, models: Sequence[str], wall_seconds: float, seed: int
) -> pd.DataFrame:
    """One run's table: a row per model (fit and epoch seconds, test accuracy against its
    target) and a total row whose fixed cost is the wall time minus the fit seconds."""
    rows = []
    for model in models:
        run = RunRecord.read(seed_dir(workspace / "models" / model, seed) / RUN_FILE)
        record_dir = seed_dir(evaluation_dir(workspace / "reports", model), seed)
        accuracy = EvaluationRecord.read(record_dir / RECORD_FILE).test_accuracy
        target = TARGETS.get(model)
        rows.append(
            {
                "model": model,
                "training s": round(fit_seconds(run), 1),
                "epochs s": round(run.train_seconds, 1),
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
        "epochs s": round(float(table["epochs s"].sum()), 1),
        "dvc repro wall s": round(wall_seconds, 1),
        "fixed cost s": round(wall_seconds - training, 1),
    }
    table = pd.concat([table, pd.DataFrame([total])], ignore_index=True)
    return table.astype(object).where(table.notna(), "")  # blank cells, not "nan"


def median_table(runs: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """The runs' tables as one: each figure's median, its values run by run beside it, and
    a model's target met when its median accuracy meets it. Each cell is its own median, so
    the medians of one row need not add up (they may come from different runs)."""
    first = runs[0]
    figures = ("training s", "epochs s", "test accuracy", "dvc repro wall s", "fixed cost s")
    rows = []
    for index, row in first.iterrows():
        merged = {"model": row["model"]}
        for figure in figures:
            values = [float(run.loc[index, figure]) for run in runs if run.loc[index, figure] != ""]
            if not values:
                continue
            digits = 4 if figure == "test accuracy" else 1
            merged[figure] = round(median(values), digits)
            if len(runs) > 1:
                merged[f"{figure}, runs"] = ", ".join(f"{value:.{digits}f}" for value in values)
        target = row.get("target", "")
        if target != "":
            merged["target"] = target
            merged["met"] = "yes" if merged["test accuracy"] >= target else "no"
        rows.append(merged)
    table = pd.DataFrame(rows)
    return table.astype(object).where(table.notna(), "")


def measure_one_seed(repeats: int = 1, progress: Callable[[str], None] = log) -> pd.DataFrame:
    """`dvc repro` of the committed pipeline with one seed, `repeats` times, each in a fresh
    clone; medians (`median_table`)."""
    bin_dir = Path(sys.executable).parent
    env = _environment(bin_dir)
    runs = []
    for index in range(repeats):
        with tempfile.TemporaryDirectory(prefix="convscope-pipeline-") as tmp:
            workspace = clone(Path(tmp) / "clone")
            params = OmegaConf.load(workspace / "params.yaml")
            params.seeds = 1
            OmegaConf.save(params, workspace / "params.yaml")
            seed = int(OmegaConf.load(workspace / "conf" / "train" / "default.yaml").seed)
            progress(f"pipeline: dvc repro, one seed, run {index + 1}/{repeats}, in {workspace}")
            wall = wall_time([str(bin_dir / "dvc"), "repro"], workspace, env)
            run = pipeline_table(workspace, list(params.architectures), wall, seed)
        total = run.iloc[-1]
        progress(
            f"  dvc repro {wall:.0f} s; training {total['training s']:.0f} s; "
            f"fixed cost {total['fixed cost s']:.0f} s; load average {os.getloadavg()[0]:.1f}"
        )
        runs.append(run)
    return median_table(runs)


def measure_clean_clone(destination: Path, progress: Callable[[str], None] = log) -> pd.DataFrame:
    """The README's `make repro` in a fresh clone at `destination` (which must not exist) with
    no `.venv`: set-up and pipeline. The clone stays: its `dvc.lock` and `reports/` are a
    clean-clone `make repro` of HEAD, and its pipeline is up to date."""
    env = _environment(None)
    started = time.perf_counter()
    workspace = clone(destination)
    progress(f"clean clone: make setup, then make repro, in {workspace}")
    setup = wall_time(["make", "setup"], workspace, env)
    repro = wall_time(["make", "repro"], workspace, env)
    total = time.perf_counter() - started
    progress(
        f"  clean clone {total:.0f} s (.venv {setup:.0f} s); load average {os.getloadavg()[0]:.1f}"
    )
    return pd.DataFrame(
        [
            {"part": "git clone + make setup (.venv)", "s": round(total - repro, 1)},
            {"part": "make repro with .venv built", "s": round(repro, 1)},
            {"part": "clean clone: git clone + make repro", "s": round(total, 1)},
        ]
    )
