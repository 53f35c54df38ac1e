"""The tracking server away during training for longer than MLflow's retries: the epochs'
metrics wait in the checkpoint folder, the stage fails in one line keeping its checkpoint, and
the rerun (what `dvc repro` runs) logs them into the same run and writes the outputs.

A real `mlflow server` on a temporary SQLite store and a free 127.0.0.1 port, stopped after
the first epoch and started again on the same store and port; MLflow's retries made short.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from convscope.cli import compose_stage_config
from convscope.records.seeds import seed_dir
from convscope.training.callbacks import UNLOGGED_FILE

REPO = Path(__file__).resolve().parents[2]
EPOCH_METRICS = ("loss", "accuracy", "val_loss", "val_accuracy", "epoch_seconds", "learning_rate")
DEADLINE_SECONDS = 600  # guards against a hang, not timings
EPOCHS = 4
# MLflow's client gives up on a refused connection at once instead of after minutes.
SHORT_RETRIES = {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "0",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "10",
}


def free_loopback_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """`mlflow server` on `folder`'s SQLite store and artifacts, at 127.0.0.1:`port`."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.port = folder, free_loopback_port()
        self.uri = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        mlflow = shutil.which("mlflow", path=str(Path(sys.executable).parent))
        command = [
            str(mlflow),
            "server",
            "--backend-store-uri",
            f"sqlite:///{self.folder / 'mlflow.db'}",
            "--artifacts-destination",
            str(self.folder / "artifacts"),
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--workers",
            "1",
        ]
        with (self.folder / "server.log").open("a") as log:
            self.process = subprocess.Popen(
                command, cwd=self.folder, stdout=log, stderr=log, start_new_session=True
            )
        deadline = time.monotonic() + DEADLINE_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail((self.folder / "server.log").read_text()[-3000:])
            with (
                contextlib.suppress(urllib.error.URLError, ConnectionError, TimeoutError),
                urllib.request.urlopen(f"{self.uri}/health", timeout=5) as answer,
            ):
                if answer.status == 200:
                    return
            time.sleep(0.5)
        pytest.fail("the MLflow server did not answer /health")

    def stop(self) -> None:
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=10)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        self.process = None


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    folder = tmp_path / "server"
    folder.mkdir()
    running = Server(folder)
    running.start()
    try:
        yield running
    finally:
        running.stop()


def backed_up_epoch(checkpoint: Path) -> int:
    """The epoch Keras' resume backup records, once its metadata is written whole (else 0)."""
    with contextlib.suppress(FileNotFoundError, json.JSONDecodeError, KeyError):
        return int(
            json.loads((checkpoint / "backup" / "training_metadata.json").read_text())["epoch"]
        )
    return 0


@pytest.mark.system
def test_server_away_past_the_retries_loses_nothing_and_the_rerun_logs_it(
    tmp_path: Path, processed_mnist: Path, server: Server
) -> None:
    overrides = [
        "model=dense",
        f"paths.processed={processed_mnist}",
        f"paths.models_root={tmp_path / 'models'}",
        f"paths.checkpoints={tmp_path / 'checkpoints'}",
        f"hydra.run.dir={tmp_path / 'outputs'}",
        "tracking.log_model=false",
        "tracking.system_metrics=false",
        "train.early_stopping.enabled=false",
        "train.subset=3000",
        f"train.epochs={EPOCHS}",
        "train.verbose=2",
    ]
    command = [sys.executable, "-m", "convscope.train", *overrides]
    env = {**os.environ, "MLFLOW_TRACKING_URI": server.uri, **SHORT_RETRIES}
    cfg = compose_stage_config("train", *overrides)
    checkpoint = seed_dir(cfg.paths.checkpoint_dir("dense"), 42)
    model_dir = seed_dir(tmp_path / "models" / "dense", 42)

    log = tmp_path / "first.log"
    with log.open("w") as output:
        first = subprocess.Popen(command, cwd=REPO, env=env, stdout=output, stderr=output)
    try:
        deadline = time.monotonic() + DEADLINE_SECONDS
        while backed_up_epoch(checkpoint) < 1 and first.poll() is None:
            assert time.monotonic() < deadline, "no epoch backed up"
            time.sleep(0.05)
        server.stop()
        first.wait(timeout=DEADLINE_SECONDS)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()

    text = log.read_text()
    assert first.returncode == 1, text[-3000:]
    errors = [line for line in text.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, text[-3000:]
    assert errors[0].startswith(
        f"error: tracking.uri: the MLflow tracking server at {server.uri} stopped answering"
    )
    assert "Traceback" not in text
    assert "The MLflow tracking server did not answer; the metrics of epoch" in text
    # Nothing trained is lost: every epoch is in the checkpoint, the unlogged ones spooled.
    assert backed_up_epoch(checkpoint) == EPOCHS
    assert (checkpoint / UNLOGGED_FILE).exists()
    assert not (model_dir / "model.keras").exists()

    server.start()
    second = subprocess.run(
        command, cwd=REPO, env=env, capture_output=True, text=True, timeout=DEADLINE_SECONDS
    )

    output = second.stdout + second.stderr
    assert second.returncode == 0, output[-3000:]
    assert f"Resuming dense at epoch {EPOCHS + 1} of {EPOCHS}" in output
    client = MlflowClient(server.uri)
    [run] = client.search_runs([client.get_experiment_by_name("mnist").experiment_id])
    assert run.info.status == "FINISHED"
    steps = {
        key: [m.step for m in client.get_metric_history(run.info.run_id, key)]
        for key in EPOCH_METRICS
    }
    assert {key: sorted(value) for key, value in steps.items()} == {
        key: list(range(1, EPOCHS + 1)) for key in EPOCH_METRICS
    }
    history = pd.read_csv(model_dir / "history.csv")
    assert history["epoch"].tolist() == list(range(1, EPOCHS + 1))
    assert (model_dir / "model.keras").exists()
    assert json.loads((model_dir / "run.json").read_text())["run_id"] == run.info.run_id
    assert not checkpoint.exists()
