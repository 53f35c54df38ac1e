"""Helpers for tests that run the DVC pipeline as a user does, in a fresh git + DVC project.

Each project is a copy of this repository's pipeline (`dvc.yaml`, `params.yaml`, `conf/`,
`src/`), without `dvc.lock` or any output, committed once so that `dvc exp run` and
`dvc params diff` have a baseline. Its stages run this virtualenv's Python on the copy's own
`src/` (PYTHONPATH), so the code DVC hashes is the code that runs, and they log to the default
MLflow store of the project, `<project>/mlflow.db` (DVC exports the project root as DVC_ROOT).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from convscope.data.download import MIRROR_ENV

REPO_ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
# Only against a hung command: a whole tiny pipeline takes minutes on an idle 2-core machine,
# but 15 minutes were not enough with five test suites sharing it (load average 20).
HANG_GUARD_SECONDS = 3600
# Variables that would send a stage's outputs or MLflow runs outside the project.
FOREIGN_VARIABLES = ("MLFLOW_TRACKING_URI", "CONVSCOPE_SWEEP_JOB_DIR", "DVC_ROOT", "DVC_EXP_NAME")
# The cheapest setting on which every stage still does its real work: 2,000 training images,
# one epoch, and the evaluate stage's speed measured with one short block instead of seven.
TINY_SETTINGS = (
    "conf/train/default.yaml:subset=2000",
    "conf/train/default.yaml:epochs=1",
    "conf/train/default.yaml:verbose=0",
    "conf/evaluate/default.yaml:verbose=0",
    "conf/evaluate/default.yaml:timing.warmup=1",
    "conf/evaluate/default.yaml:timing.repeats=1",
    "conf/evaluate/default.yaml:timing.latency_calls=2",
    "conf/evaluate/default.yaml:timing.throughput_batches=1",
)


def stage_environment(mirror: Path | str) -> dict[str, str]:
    """The environment a stage runs in: this virtualenv first on PATH, the given mirror."""
    env = {key: value for key, value in os.environ.items() if key not in FOREIGN_VARIABLES}
    return env | {
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        MIRROR_ENV: str(mirror),
        "DVC_NO_ANALYTICS": "1",
    }


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def copy_project(dest: Path) -> Path:
    """A fresh git + DVC repository holding this project's pipeline, config and code, committed."""
    dest.mkdir()
    for name in ("dvc.yaml", "params.yaml", ".gitignore", ".dvcignore"):
        shutil.copy(REPO_ROOT / name, dest / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
    shutil.copytree(REPO_ROOT / "conf", dest / "conf", ignore=ignore)
    shutil.copytree(REPO_ROOT / "src", dest / "src", ignore=ignore)
    git(dest, "init", "-q")
    git(dest, "config", "user.name", "convscope tests")
    git(dest, "config", "user.email", "tests@convscope.invalid")
    subprocess.run([str(BIN / "dvc"), "init", "-q"], cwd=dest, check=True, capture_output=True)
    git(dest, "add", "-A")
    git(dest, "commit", "-q", "-m", "the pipeline, config and code")
    return dest


@dataclass(frozen=True)
class DvcProject:
    """A project copy and the environment its commands run in."""

    root: Path
    env: dict[str, str]

    def run(self, *command: str) -> subprocess.CompletedProcess:
        """Run `command` in the project; the caller checks the result."""
        return subprocess.run(
            command,
            cwd=self.root,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=HANG_GUARD_SECONDS,
        )

    def dvc(self, *args: str) -> str:
        """Run `dvc <args>`, fail the test with DVC's output unless it exits 0; return stdout."""
        result = self.run(str(BIN / "dvc"), *args)
        assert result.returncode == 0, f"dvc {' '.join(args)}:\n{result.stdout}{result.stderr}"
        return result.stdout

    def dvc_json(self, *args: str) -> Any:
        """`dvc <args> --json`, parsed."""
        return json.loads(self.dvc(*args, "--json"))

    def tiny_experiment(self, *settings: str) -> str:
        """`dvc exp run` of the whole pipeline with TINY_SETTINGS and `settings`; its stdout."""
        return self.dvc("exp", "run", *(f"-S{s}" for s in (*TINY_SETTINGS, *settings)))

    @property
    def tracking_uri(self) -> str:
        """The MLflow store the stages log to by default."""
        return f"sqlite:///{self.root / 'mlflow.db'}"


@pytest.fixture(scope="session")
def project_copy() -> Callable[[Path], Path]:
    """`project_copy(dest)`: a fresh, committed git + DVC copy of the pipeline at `dest`."""
    return copy_project


@pytest.fixture(scope="session")
def stage_env() -> Callable[[Path | str], dict[str, str]]:
    """`stage_env(mirror)`: the environment a stage runs in, reading data from `mirror`."""
    return stage_environment


@pytest.fixture(scope="session")
def dvc_project(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str, Path], DvcProject]:
    """`dvc_project(name, mirror)`: a new project copy whose stages read data from `mirror`."""

    def make(name: str, mirror: Path) -> DvcProject:
        root = copy_project(tmp_path_factory.mktemp(name) / "project")
        return DvcProject(root, stage_environment(mirror) | {"PYTHONPATH": str(root / "src")})

    return make
