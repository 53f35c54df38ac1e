"""A team's project in a temporary folder: a shared git repository, and a clone that trained.

`trained_clone` builds, once a session, what a teammate has after a first training:

    <tmp>/origin.git             the team's git repository (bare), holding this project
    <tmp>/a                      clone A: `dvc repro train@dense` ran, dvc.lock and reports
                                 committed (not pushed)
    <tmp>/convscope-dvc-remote   the default DVC remote of .dvc/config (`../../convscope-dvc-remote`
                                 from .dvc/, so beside every clone), still empty

The committed project is this one with a tiny plan (`params.yaml` architectures: [dense]) and tiny
settings in its YAML (256 training images, one epoch), so that every clone has the same params.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
DVC = str(BIN / "dvc")
GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "convscope tests",
    "GIT_AUTHOR_EMAIL": "tests@convscope.invalid",
    "GIT_COMMITTER_NAME": "convscope tests",
    "GIT_COMMITTER_EMAIL": "tests@convscope.invalid",
}
# What the committed project changes in this project's YAML, so that training takes seconds.
TINY = {
    "params.yaml": {"architectures": ["dense"], "seeds": 1},
    "conf/train/default.yaml": {"subset": 256, "epochs": 1, "verbose": 0},
    "conf/tracking/local.yaml": {"log_model": False},
}


def run(
    command: list[str], cwd: Path, env: dict[str, str], timeout: float = 1200
) -> subprocess.CompletedProcess:
    """Run `command` in `cwd`; fail the test with its output when it fails."""
    done = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == 0, f"{command}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


def commit_project(dest: Path, env: dict[str, str]) -> None:
    """`dest` (this project's pipeline, config and code) with its DVC config and tiny settings,
    in one commit."""
    for relative, changes in TINY.items():
        path = dest / relative
        path.write_text(yaml.safe_dump({**yaml.safe_load(path.read_text()), **changes}))
    run(["git", "init", "-q", "-b", "main"], dest, env)
    run([DVC, "init", "-q"], dest, env)
    shutil.copy(REPO_ROOT / ".dvc" / "config", dest / ".dvc" / "config")  # the remote
    run(["git", "add", "-A"], dest, env)
    run(["git", "commit", "-q", "-m", "convscope, tiny settings"], dest, env)


@dataclass(frozen=True)
class TeamProject:
    """The folders of `trained_clone` (see the module docstring) and the stages' environment."""

    root: Path
    origin: Path
    clone_a: Path
    remote: Path
    env: dict[str, str]

    def run(
        self, command: list[str], cwd: Path, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess:
        """Run `command` (`dvc ...` runs this virtualenv's DVC) in `cwd`; fail on failure."""
        if command[0] == "dvc":
            command = [DVC, *command[1:]]
        return run(command, cwd, env or self.env)

    def start(self, command: list[str], cwd: Path) -> str:
        """Run `command` that leaves processes behind (`dvc queue start`), and return its output.

        The output goes through a file: the processes it starts would hold a pipe open.
        """
        log = cwd.parent / f"{cwd.name}-{command[1]}-{command[2]}.log"
        with log.open("w") as out:
            done = subprocess.run(
                [DVC, *command[1:]] if command[0] == "dvc" else command,
                cwd=cwd,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                timeout=120,
            )
        assert done.returncode == 0, f"{command}:\n{log.read_text()[-3000:]}"
        return log.read_text()


@pytest.fixture(scope="session")
def trained_clone(
    mnist_mirror: Path,
    tmp_path_factory: pytest.TempPathFactory,
    pipeline_files: Callable[[Path], Path],
    stage_env: Callable[[Path], dict[str, str]],
) -> TeamProject:
    """Clone A of a team's project, after `dvc repro train@dense` and a commit of dvc.lock."""
    root = tmp_path_factory.mktemp("team")
    # The stages' environment (tests/conftest.py), with a git identity for the commits.
    env = stage_env(mnist_mirror) | GIT_IDENTITY
    commit_project(pipeline_files(root / "seed"), env)
    run(["git", "clone", "-q", "--bare", "seed", "origin.git"], root, env)
    run(["git", "clone", "-q", "origin.git", "a"], root, env)
    clone_a = root / "a"
    run([DVC, "repro", "train@dense"], clone_a, env)
    run(["git", "add", "dvc.lock", "reports"], clone_a, env)  # reports: the cache: false outs
    run(["git", "commit", "-q", "-m", "trained dense"], clone_a, env)
    return TeamProject(root, root / "origin.git", clone_a, root / "convscope-dvc-remote", env)
