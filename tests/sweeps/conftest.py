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
from collections.abc import Callable, Iterator
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
    """`run_sweep(*overrides, env=...)` runs `python -m convscope.sweep` with a temporary store
    and sweep folder, small jobs and `overrides`, in `env` (by default this process's
    environment)."""

    def run(*overrides: str, timeout: float = 1200, env: dict[str, str] | None = None) -> Sweep:
        command = sweep_command(tmp_path, processed_mnist, tmp_path / "multirun", *overrides)
        done = run_in_own_group(command, tmp_path, timeout, env)
        return Sweep(done, tmp_path / "multirun", tmp_path, MlflowClient(store_uri(tmp_path)))

    return run


@pytest.fixture
def start_sweep(
    tmp_path: Path, processed_mnist: Path, sweeps_configured: None
) -> Iterator[Callable[..., subprocess.Popen]]:
    """`start_sweep(name, *overrides, env=None)` starts what `run_sweep` runs, in the
    background, with sweep folder and output `<tmp_path>/<name>` and `<name>.log`; every sweep
    started is killed with its process group at teardown, pass or fail."""
    started: list[subprocess.Popen] = []

    def start(name: str, *overrides: str, env: dict[str, str] | None = None) -> subprocess.Popen:
        command = sweep_command(tmp_path, processed_mnist, tmp_path / name, *overrides)
        with (tmp_path / f"{name}.log").open("w") as log:
            process = subprocess.Popen(
                command,
                cwd=tmp_path,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        started.append(process)
        return process

    yield start
    for process in started:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def store_uri(workdir: Path) -> str:
    """The MLflow store of the sweeps run in `workdir`."""
    return f"sqlite:///{workdir / 'mlflow.db'}"


def sweep_command(workdir: Path, processed: Path, folder: Path, *overrides: str) -> list[str]:
    """`python -m convscope.sweep`, small jobs, store in `workdir`, sweep folder `folder`."""
    return [
        sys.executable,
        "-m",
        "convscope.sweep",
        *overrides,
        f"paths.processed={processed}",
        f"tracking.uri={store_uri(workdir)}",
        f"tracking.artifact_location={workdir / 'mlartifacts'}",
        f"hydra.sweep.dir={folder}",
        *SMALL_JOB,
    ]


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
