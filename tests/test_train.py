"""The `train` stage through its command line: bad configs, and resuming after a kill."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

REPO = Path(__file__).resolve().parents[1]


def train_command(tmp: Path, processed: Path, *overrides: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "convscope.train",
        f"paths.processed={processed}",
        f"paths.model_dir={tmp / 'models' / 'lenet5'}",
        f"paths.checkpoints={tmp / 'checkpoints'}",
        f"tracking.uri=sqlite:///{tmp / 'mlflow.db'}",
        f"tracking.artifact_location={tmp / 'mlartifacts'}",
        f"hydra.run.dir={tmp / 'outputs'}",
        "train.verbose=2",
        *overrides,
    ]


@pytest.mark.parametrize(
    ("override", "named"),
    [
        ("model.filters=[32,-8,64]", "model.filters"),
        ("model.kernel_size=4", "model.kernel_size"),
        ("model.activation=wiggle", "model.activation"),
        ("train.batch_size=0", "train.batch_size"),
        ("train.optimizer=adagrad", "train.optimizer"),
        ("model.fliters=[8,8,8]", "model.fliters"),
        ("model.dense_units=many", "model.dense_units"),
    ],
)
def test_bad_config_fails_with_one_line_naming_the_key(
    tmp_path: Path, override: str, named: str
) -> None:
    # No data: a config error is reported before the stage reads any.
    command = train_command(tmp_path, tmp_path / "processed", "model=stacked_conv", override)
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and named in errors[0], done.stderr
    assert not (tmp_path / "models").exists()


@pytest.mark.slow
def test_training_killed_after_first_epoch_resumes_at_second(
    tmp_path: Path, processed_mnist: Path
) -> None:
    command = train_command(
        tmp_path,
        processed_mnist,
        "model=lenet5",
        "train.subset=4096",
        "train.epochs=3",
        "train.early_stopping.enabled=false",
        "tracking.log_model=false",
    )
    backup = tmp_path / "checkpoints" / "backup" / "training_metadata.json"
    first = subprocess.Popen(
        command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 180
    while not backup.exists() and first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert backup.exists(), "no checkpoint after the first epoch"
    os.kill(first.pid, signal.SIGKILL)
    first.wait()
    killed_after = json.loads(backup.read_text())["epoch"]
    assert not (tmp_path / "models" / "lenet5" / "model.keras").exists()

    second = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert second.returncode == 0, second.stderr[-2000:]
    assert f"Resuming lenet5 at epoch {killed_after + 1} of 3" in second.stdout + second.stderr
    history = pd.read_csv(tmp_path / "models" / "lenet5" / "history.csv")
    assert history["epoch"].tolist() == [1, 2, 3]

    client = MlflowClient(f"sqlite:///{tmp_path / 'mlflow.db'}")
    runs = client.search_runs(client.get_experiment_by_name("mnist").experiment_id)
    assert len(runs) == 1, "the resumed training must continue the same MLflow run"
    steps = [m.step for m in client.get_metric_history(runs[0].info.run_id, "val_accuracy")]
    assert sorted(set(steps)) == [1, 2, 3]
    assert runs[0].info.status == "FINISHED"
