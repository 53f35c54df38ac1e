"""Tiny real models from the real train stage, then evaluated by the real evaluate stage.

Shared by the evaluate and compare stage tests. Each stage runs as DVC runs it: one
`python -m convscope.<stage> model=<name> seeds=2` process per model, training or evaluating
both seeds (42 and 43), here the two models' processes side by side, on one epoch of 512 real
MNIST images. What the tests read is what the train stage left behind in each seed's folder
(`model.keras`, `history.csv`, `run.json` with a logged model) and the one MLflow run per model
and seed it created, which evaluate then logs into.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import mlflow
import pytest

from convscope.cli import compose_stage_config
from convscope.config import StageConfig
from convscope.records.seeds import seed_dir
from convscope.tracking.store import connect

REPO = Path(__file__).resolve().parents[2]
MODELS = ("dense", "lenet5")
SEEDS = (42, 43)  # train.seed (conf/train/default.yaml) and the next: `seeds=2`
# One epoch on 512 images: seconds. The model is logged to MLflow as by default.
TINY_TRAINING = ("train.subset=512", "train.epochs=1", "train.verbose=0")
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

    def model_dir(self, name: str, seed: int = SEEDS[0]) -> Path:
        """The folder of one seed's trained model (the first seed's by default)."""
        return seed_dir(self.root / "models" / name, seed)

    def evaluation_dir(self, name: str, seed: int = SEEDS[0]) -> Path:
        """The folder of one seed's evaluation (the first seed's by default)."""
        return seed_dir(self.reports / "evaluation" / name, seed)

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
            f"paths.checkpoints={self.root / 'checkpoints'}/${{model.name}}",
            f"paths.reports={self.reports}",
            f"tracking.uri={self.tracking_uri}",
            f"tracking.artifact_location={self.root / 'mlartifacts'}",
            f"hydra.run.dir={self.root / 'outputs'}",
            f"hydra.sweep.dir={self.root / 'multirun'}",
        ]

    def config(self, *overrides: str) -> StageConfig:
        """The config a stage gets on this workspace (Hydra's compose API, no process)."""
        stage_overrides = [o for o in self.overrides() if not o.startswith("hydra.")]
        return compose_stage_config(*stage_overrides, *overrides)

    def command(self, stage: str, *arguments: str) -> list[str]:
        """`python -m convscope.<stage> <arguments>` on this workspace."""
        return [sys.executable, "-m", f"convscope.{stage}", *arguments, *self.overrides()]

    def run(self, stage: str, *arguments: str) -> subprocess.CompletedProcess[str]:
        """Run `python -m convscope.<stage>` on this workspace from the repository root."""
        command = self.command(stage, *arguments)
        return subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=600)

    def run_per_model(self, stage: str, *arguments: str) -> None:
        """Run the stage once per model (as DVC's `<stage>@<model>` does), the processes side
        by side; fail with a process's output unless all exit 0 (outputs: `<stage>-<model>.log`)."""
        logs = {name: self.root / f"{stage}-{name}.log" for name in MODELS}
        running = {}
        try:
            for name, log in logs.items():
                with log.open("w") as output:
                    command = self.command(stage, f"model={name}", *arguments)
                    running[name] = subprocess.Popen(
                        command, cwd=REPO, stdout=output, stderr=output
                    )
            for name, process in running.items():
                process.wait(timeout=600)
                assert process.returncode == 0, f"{stage} {name}:\n{logs[name].read_text()[-3000:]}"
        finally:
            for process in running.values():
                if process.poll() is None:
                    process.kill()
                    process.wait()


@pytest.fixture(scope="session")
def evaluated(processed_mnist: Path, tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """Dense and LeNet-5, two seeds each, trained by the train stage, then evaluated by the
    evaluate stage.

    Do not modify it; copy what a test needs to change. (Test modules cannot import this
    conftest under `--import-mode=importlib`; they use the Workspace through this fixture.)
    """
    workspace = Workspace(tmp_path_factory.mktemp("evaluated"), processed_mnist)
    # The two trainings run side by side: the trainer's own `connect` creates the SQLite store
    # and the experiment first, so that they do not race to migrate a new database file.
    previous_uri = mlflow.get_tracking_uri()
    try:
        connect(workspace.config().tracking)
    finally:
        mlflow.set_tracking_uri(previous_uri)
    workspace.run_per_model("train", f"seeds={len(SEEDS)}", *TINY_TRAINING)
    workspace.run_per_model("evaluate", f"seeds={len(SEEDS)}", *QUICK_TIMING)
    return workspace
