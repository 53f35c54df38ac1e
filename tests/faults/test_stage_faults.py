"""Faults during the train stage, through its command line as DVC runs it: a full disk (a
file-size limit, RLIMIT_FSIZE, without root) and SIGTERM or SIGINT mid-training."""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from convscope.atomic import leftovers
from convscope.cli import compose_stage_config
from convscope.records.seeds import seed_dir
from convscope.tracking.failure import FAILURE_TAG
from convscope.training.trainer import compiled_model

REPO = Path(__file__).resolve().parents[2]
EPOCH_METRICS = ("loss", "accuracy", "val_loss", "val_accuracy", "epoch_seconds", "learning_rate")
# Guards against a hang, not timings.
DEADLINE_SECONDS = 600


def train_overrides(tmp: Path, processed: Path, *overrides: str) -> list[str]:
    """The dense model's train stage, everything it writes under `tmp`."""
    return [
        "model=dense",
        f"paths.processed={processed}",
        f"paths.models_root={tmp / 'models'}",
        f"paths.checkpoints={tmp / 'checkpoints'}",
        f"tracking.uri=sqlite:///{tmp / 'mlflow.db'}",
        f"tracking.artifact_location={tmp / 'mlartifacts'}",
        f"hydra.run.dir={tmp / 'outputs'}",
        "tracking.log_model=false",
        "train.early_stopping.enabled=false",
        "train.verbose=2",
        *overrides,
    ]


def train_command(tmp: Path, processed: Path, *overrides: str) -> list[str]:
    """`python -m convscope.train` with `train_overrides`."""
    return [
        sys.executable,
        "-m",
        "convscope.train",
        *train_overrides(tmp, processed, *overrides),
    ]


def checkpoint_of(tmp: Path, processed: Path) -> Path:
    """The resume state folder of the dense model's seed 42 under `tmp`."""
    cfg = compose_stage_config("train", *train_overrides(tmp, processed))
    return seed_dir(cfg.paths.checkpoint_dir("dense"), 42)


def stage_environment() -> dict[str, str]:
    # The stage logs to its own store, not one an in-process test exported.
    return {key: value for key, value in os.environ.items() if key != "MLFLOW_TRACKING_URI"}


def dense_file_sizes(tmp: Path) -> tuple[int, int]:
    """Bytes of the dense model's resume backup (its weights and optimizer state) and of its
    `model.keras` (the same, plus its config): the largest files a training writes."""
    cfg = compose_stage_config("train", "model=dense")
    model = compiled_model(cfg.model, cfg.data, cfg.train, 64)
    model.fit(np.zeros((64, 28, 28, 1), "float32"), np.zeros(64, "int64"), verbose=0)
    model.save_weights(tmp / "backup.weights.h5")
    model.save(tmp / "model.keras")
    return (tmp / "backup.weights.h5").stat().st_size, (tmp / "model.keras").stat().st_size


def file_size_limit(limit: int) -> Callable[[], None]:
    """For `preexec_fn`: in the child, no file grows beyond `limit` bytes, and a write past
    it fails with EFBIG instead of SIGXFSZ killing the process."""

    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


def only_run(tmp: Path) -> tuple[MlflowClient, object]:
    client = MlflowClient(f"sqlite:///{tmp / 'mlflow.db'}")
    [run] = client.search_runs([client.get_experiment_by_name("mnist").experiment_id])
    return client, run


def epoch_steps(client: MlflowClient, run_id: str) -> dict[str, list[int]]:
    return {key: [m.step for m in client.get_metric_history(run_id, key)] for key in EPOCH_METRICS}


@pytest.mark.system
def test_full_disk_writing_the_model_is_one_line_and_a_failed_run(
    tmp_path: Path, processed_mnist: Path
) -> None:
    # Between the two: the backup of every epoch fits, the model file does not. The SQLite
    # store, history, metrics and figures are far smaller.
    backup, model = dense_file_sizes(tmp_path)
    assert backup < model, "the premise is broken: the backup is as large as the model"
    stage = tmp_path / "stage"
    done = subprocess.run(
        train_command(stage, processed_mnist, "train.subset=500", "train.epochs=1"),
        cwd=REPO,
        env=stage_environment(),
        preexec_fn=file_size_limit((backup + model) // 2),
        capture_output=True,
        text=True,
        timeout=DEADLINE_SECONDS,
    )

    model_dir = seed_dir(stage / "models" / "dense", 42)
    model_file = model_dir / "model.keras"
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert errors == [f"error: {model_file}: file too large"], done.stderr[-3000:]
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert not model_file.exists()
    assert leftovers(model_dir) == []
    _, run = only_run(stage)
    assert run.info.status == "FAILED"
    assert run.data.tags[FAILURE_TAG] == f"OSError: [Errno 27] File too large: '{model_file}'"
    # The trained epochs are kept: the checkpoint holds them for the rerun.
    assert (checkpoint_of(stage, processed_mnist) / "backup" / "training_metadata.json").exists()


def backed_up_epoch(checkpoint: Path) -> int:
    """The epoch Keras' resume backup records, once its metadata is written whole (else 0)."""
    try:
        return int(
            json.loads((checkpoint / "backup" / "training_metadata.json").read_text())["epoch"]
        )
    except (FileNotFoundError, json.JSONDecodeError, KeyError):
        return 0


@pytest.mark.system
@pytest.mark.parametrize(("sent", "status"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_signal_during_training_keeps_the_checkpoint_and_the_rerun_resumes_the_run(
    tmp_path: Path, processed_mnist: Path, sent: signal.Signals, status: int
) -> None:
    command = train_command(tmp_path, processed_mnist, "train.subset=3000", "train.epochs=6")
    checkpoint = checkpoint_of(tmp_path, processed_mnist)
    log = tmp_path / "first.log"
    with log.open("w") as output:
        first = subprocess.Popen(
            command, cwd=REPO, env=stage_environment(), stdout=output, stderr=output
        )
    try:
        deadline = time.monotonic() + DEADLINE_SECONDS
        while (
            backed_up_epoch(checkpoint) < 1 and first.poll() is None and time.monotonic() < deadline
        ):
            time.sleep(0.05)
        assert first.poll() is None, f"the training ended before the signal:\n{log.read_text()}"
        first.send_signal(sent)
        first.wait(timeout=DEADLINE_SECONDS)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()

    stderr = log.read_text()
    assert first.returncode == status, stderr[-3000:]
    errors = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert errors == [
        f"error: stopped by {sent.name}; rerun the same command to resume a training "
        "from its checkpoint"
    ], stderr[-3000:]
    assert "Traceback" not in stderr
    assert backed_up_epoch(checkpoint) >= 1
    assert not (seed_dir(tmp_path / "models" / "dense", 42) / "model.keras").exists()
    client, killed = only_run(tmp_path)
    assert killed.info.status == "KILLED"
    assert FAILURE_TAG not in killed.data.tags

    second = subprocess.run(
        command,
        cwd=REPO,
        env=stage_environment(),
        capture_output=True,
        text=True,
        timeout=DEADLINE_SECONDS,
    )

    assert second.returncode == 0, second.stderr[-3000:]
    output = second.stdout + second.stderr
    resumed = [line for line in output.splitlines() if "Resuming dense at epoch" in line]
    assert resumed, output[-3000:]
    _, run = only_run(tmp_path)
    assert run.info.run_id == killed.info.run_id
    assert run.info.status == "FINISHED"
    assert epoch_steps(client, run.info.run_id) == {key: list(range(1, 7)) for key in EPOCH_METRICS}
    history = pd.read_csv(seed_dir(tmp_path / "models" / "dense", 42) / "history.csv")
    assert history["epoch"].tolist() == list(range(1, 7))
    assert not checkpoint.exists()
