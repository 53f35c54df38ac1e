"""Full training with the defaults: do they reach the accuracy targets, and how fast?

Each model is trained by `python -m convscope.train`, as `dvc repro` runs it (one process
per model, full training set, default config), then evaluated on the test set.

Timed: the wall time of each command (process start, data, training, MLflow logging and
artifacts included); the test evaluation afterwards is not timed. One run per model: this
checks that the defaults reach the accuracy targets and how long the whole training takes;
it is not a comparison.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import pandas as pd

from benchmarks.common import REPO, log, model_inputs
from convscope.cli import compose_stage_config
from convscope.records.run import MODEL_FILE, RUN_FILE, RunRecord
from convscope.records.seeds import seed_dir

# Test accuracy each model must reach with the default config (a model not listed here is
# trained and reported without a target: the model list itself comes from params.yaml).
TARGETS = {"dense": 0.980, "lenet5": 0.990, "stacked_conv": 0.993}


def train_command(model: str, processed: Path, workdir: Path) -> list[str]:
    """The train stage's command line for `model`, writing under `workdir`."""
    return [
        sys.executable,
        "-m",
        "convscope.train",
        f"model={model}",
        f"paths.processed={processed}",
        f"paths.model_dir={workdir / 'models' / model}",
        f"paths.checkpoints={workdir / 'checkpoints' / model}",
        f"tracking.uri=sqlite:///{workdir / 'mlflow.db'}",
        f"tracking.artifact_location={workdir / 'mlartifacts'}",
        f"hydra.run.dir={workdir / 'outputs' / model}",
    ]


def evaluate_test_accuracy(model_file: Path, processed: Path) -> float:
    """Accuracy of a saved model on the test split."""
    import keras

    x_test, y_test = model_inputs(compose_stage_config(f"paths.processed={processed}"), "test")
    model = keras.models.load_model(model_file)
    _, accuracy = model.evaluate(x_test, y_test, batch_size=1024, verbose=0)
    return float(accuracy)


def measure_full_training(
    processed: Path,
    models: Sequence[str],
    targets: Mapping[str, float] = TARGETS,
    overrides: Sequence[str] = (),
    progress: Callable[[str], None] = log,
) -> pd.DataFrame:
    """Train each model with the defaults (plus `overrides`); one row per model and a total."""
    rows = []
    with tempfile.TemporaryDirectory(prefix="convscope-full-") as tmp:
        workdir = Path(tmp)
        for model in models:
            progress(f"full training: {model}")
            command = [*train_command(model, processed, workdir), *overrides]
            start = time.perf_counter()
            done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=False)
            seconds = time.perf_counter() - start
            if done.returncode != 0:
                raise RuntimeError(f"{' '.join(command)} failed:\n{done.stderr[-3000:]}")
            run = RunRecord.read(seed_dir(workdir / "models" / model, 42) / RUN_FILE)
            accuracy = evaluate_test_accuracy(
                seed_dir(workdir / "models" / model, 42) / MODEL_FILE, processed
            )
            target = targets.get(model)
            rows.append(
                {
                    "model": model,
                    "wall s": round(seconds, 1),
                    "fit epochs s": round(run.train_seconds, 1),
                    "epochs run": run.epochs,
                    "best val accuracy": round(run.best_val_accuracy or 0.0, 4),
                    "test accuracy": round(accuracy, 4),
                    "target": target,
                    "met": "-" if target is None else ("yes" if accuracy >= target else "no"),
                }
            )
            progress(f"  {model}: {seconds:.0f} s, test accuracy {accuracy:.4f}")
    table = pd.DataFrame(rows)
    total = {"model": "all", "wall s": round(table["wall s"].sum(), 1)}
    return pd.concat([table, pd.DataFrame([total])], ignore_index=True)
