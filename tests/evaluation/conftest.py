"""Tiny real models trained on real MNIST, with real MLflow runs, then evaluated by the CLI.

Shared by the evaluate and compare stage tests. Training goes through Keras directly (one
epoch on 512 images, seconds) instead of the train stage; what the train stage leaves
behind is reproduced: `model.keras`, `history.csv`, `run.json` and an MLflow run holding
the parameter counts and training times.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
import pandas as pd
import pytest
from mlflow.entities import Metric
from mlflow.tracking import MlflowClient
from omegaconf import OmegaConf

from convscope.cli import CONFIG_DIR
from convscope.models.layers import parameter_summary
from convscope.models.registry import build_model

REPO = Path(__file__).resolve().parents[2]
MODELS = ("dense", "lenet5")
# Timing kept minimal: these tests check what is measured, not how fast the CPU is.
QUICK_TIMING = (
    "evaluate.verbose=0",
    "evaluate.timing.warmup=1",
    "evaluate.timing.repeats=2",
    "evaluate.timing.latency_calls=3",
    "evaluate.timing.throughput_batch_size=64",
    "evaluate.timing.throughput_batches=2",
)


@dataclass(frozen=True)
class Workspace:
    """A temporary project layout: models, reports, an MLflow store, processed MNIST."""

    root: Path
    processed: Path

    @property
    def tracking_uri(self) -> str:
        return f"sqlite:///{self.root / 'mlflow.db'}"

    def model_dir(self, name: str) -> Path:
        return self.root / "models" / name

    @property
    def reports(self) -> Path:
        return self.root / "reports"

    def elsewhere(self, root: Path) -> Workspace:
        """An empty workspace at `root` on the same processed data."""
        return Workspace(root, self.processed)

    def overrides(self) -> list[str]:
        """Hydra overrides pointing a stage at this workspace."""
        return [
            f"paths.processed={self.processed}",
            f"paths.model_dir={self.root / 'models'}/${{model.name}}",
            f"paths.reports={self.reports}",
            f"tracking.uri={self.tracking_uri}",
            f"tracking.artifact_location={self.root / 'mlartifacts'}",
            f"hydra.run.dir={self.root / 'outputs'}",
            f"hydra.sweep.dir={self.root / 'multirun'}",
        ]

    def run(self, stage: str, *arguments: str) -> subprocess.CompletedProcess[str]:
        """Run `python -m convscope.<stage>` on this workspace from the repository root."""
        command = [sys.executable, "-m", f"convscope.{stage}", *arguments, *self.overrides()]
        return subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=600)


def train_tiny(name: str, workspace: Workspace, experiment_id: str) -> None:
    """One epoch on 512 real training images; write what the train stage writes."""
    images = np.load(workspace.processed / "train_images.npy")[:512]
    labels = np.load(workspace.processed / "train_labels.npy")[:512]
    val_images = np.load(workspace.processed / "val_images.npy")[:256]
    val_labels = np.load(workspace.processed / "val_labels.npy")[:256]
    keras.utils.set_random_seed(0)
    model_cfg = OmegaConf.load(CONFIG_DIR / "model" / f"{name}.yaml")
    model_cfg.pop("defaults")
    model = build_model(model_cfg, (28, 28, 1), 10)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    fitted = model.fit(
        images[..., np.newaxis].astype("float32"),
        labels,
        batch_size=64,
        epochs=1,
        validation_data=(val_images[..., np.newaxis].astype("float32"), val_labels),
        verbose=0,
    ).history
    model_dir = workspace.model_dir(name)
    model_dir.mkdir(parents=True)
    model.save(model_dir / "model.keras")
    train_seconds = {"dense": 1.25, "lenet5": 3.5}[name]
    history = pd.DataFrame({key: values for key, values in fitted.items()})
    history.insert(0, "epoch", [1])
    history["epoch_seconds"] = train_seconds
    history["images_per_second"] = 512 / train_seconds
    history.to_csv(model_dir / "history.csv", index=False)

    client = MlflowClient(workspace.tracking_uri)
    run_id = client.create_run(experiment_id, run_name=name).info.run_id
    training = parameter_summary(model) | {"train_seconds": train_seconds}
    training["seconds_per_epoch"] = train_seconds
    client.log_batch(run_id, [Metric(k, float(v), 0, 0) for k, v in training.items()])
    client.set_terminated(run_id)
    run = {
        "run_id": run_id,
        "experiment_id": experiment_id,
        "tracking_uri": workspace.tracking_uri,
        "model_uri": None,
        "epochs": 1,
        "best_val_accuracy": fitted["val_accuracy"][0],
        "train_seconds": train_seconds,
        "seconds_per_epoch": train_seconds,
    }
    (model_dir / "run.json").write_text(json.dumps(run))


@pytest.fixture(scope="session")
def evaluated(processed_mnist: Path, tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """Tiny dense and LeNet-5 models, trained, then evaluated in one `evaluate -m` process.

    Do not modify it; copy what a test needs to change. (Test modules cannot import this
    conftest under `--import-mode=importlib`; they use the Workspace through this fixture.)
    """
    workspace = Workspace(tmp_path_factory.mktemp("evaluated"), processed_mnist)
    client = MlflowClient(workspace.tracking_uri)
    experiment_id = client.create_experiment(
        "mnist", artifact_location=(workspace.root / "mlartifacts").as_uri()
    )
    for name in MODELS:
        train_tiny(name, workspace, experiment_id)
    done = workspace.run("evaluate", "-m", f"model={','.join(MODELS)}", *QUICK_TIMING)
    assert done.returncode == 0, done.stderr[-3000:]
    return workspace
