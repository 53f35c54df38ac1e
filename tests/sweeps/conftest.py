"""Running real sweeps (`python -m convscope.sweep ...`) on a few real MNIST images.

Each sweep runs once, in a subprocess whose working directory is the test's temporary folder:
anything a job wrote to a relative path (such as the DVC output `models/`) would land there.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from mlflow.entities import Run
from mlflow.tracking import MlflowClient
from omegaconf import OmegaConf

from convscope.cli import CONFIG_DIR
from convscope.sweeps.job import PARENT_RUN_TAG

# Tiny jobs: a few seconds each, nothing but what the assertions need.
SMALL_JOB = (
    "train.subset=256",
    "train.epochs=1",
    "train.verbose=0",
    "tracking.log_model=false",
)


@dataclass
class Sweep:
    """A finished sweep: its process, folder and MLflow store."""

    done: subprocess.CompletedProcess
    folder: Path
    workdir: Path
    client: MlflowClient

    @property
    def output(self) -> str:
        return self.done.stdout + self.done.stderr

    def parents(self) -> list[Run]:
        """The sweep's parent runs (runs with a sweep command)."""
        return [run for run in self.runs() if "sweep_command" in run.data.tags]

    def children(self, parent: Run) -> list[Run]:
        """The runs nested under `parent`, in job order."""
        runs = [r for r in self.runs() if r.data.tags.get(PARENT_RUN_TAG) == parent.info.run_id]
        return sorted(runs, key=lambda run: int(run.data.tags["sweep_job"]))

    def runs(self) -> list[Run]:
        experiment = self.client.get_experiment_by_name("mnist")
        return self.client.search_runs([experiment.experiment_id]) if experiment else []


@pytest.fixture(scope="session")
def sweeps_configured() -> None:
    """Fail clearly when conf/ does not wire up the sweep callback and job folders."""
    sweep = OmegaConf.load(CONFIG_DIR / "sweep.yaml")
    if "mlflow_sweep" not in sweep.hydra.callbacks:
        pytest.fail("conf/sweep.yaml: hydra.callbacks must hold mlflow_sweep")
    paths = OmegaConf.to_container(OmegaConf.load(CONFIG_DIR / "paths" / "default.yaml"))
    assert isinstance(paths, dict)
    for key in ("models_root", "checkpoints"):
        if "CONVSCOPE_SWEEP_JOB_DIR" not in paths[key]:
            pytest.fail(f"conf/paths/default.yaml: {key} must be rooted at CONVSCOPE_SWEEP_JOB_DIR")


@pytest.fixture
def run_sweep(
    tmp_path: Path, processed_mnist: Path, sweeps_configured: None
) -> Callable[..., Sweep]:
    """`run_sweep(*overrides)` runs `python -m convscope.sweep` with a temporary store and
    sweep folder, small jobs and `overrides`."""

    def run(*overrides: str, timeout: float = 1200) -> Sweep:
        store = f"sqlite:///{tmp_path / 'mlflow.db'}"
        command = [
            sys.executable,
            "-m",
            "convscope.sweep",
            *overrides,
            f"paths.processed={processed_mnist}",
            f"tracking.uri={store}",
            f"tracking.artifact_location={tmp_path / 'mlartifacts'}",
            f"hydra.sweep.dir={tmp_path / 'multirun'}",
            *SMALL_JOB,
        ]
        done = run_in_own_group(command, tmp_path, timeout)
        return Sweep(done, tmp_path / "multirun", tmp_path, MlflowClient(store))

    return run


def run_in_own_group(
    command: list[str], cwd: Path, timeout: float, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """Run `command` in a new process group, and kill the whole group when it is done or
    times out: launchers start job processes of their own (submitit's ignore SIGTERM)."""
    with subprocess.Popen(
        command,
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    ) as process:
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)
