"""Where a run comes from: git commit and dirtiness, Hydra overrides, DVC experiment, sweep job."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from hydra.core.hydra_config import HydraConfig

from convscope.cli import compose_config
from convscope.sweeps.job import ENVIRONMENT, PARENT_RUN_TAG, current_job
from convscope.tracking.context import git_commit, hydra_overrides, run_tags

OVERRIDES = ["model=dense", "train.learning_rate=0.01"]


def git(folder: Path, *args: str) -> str:
    command = ["git", "-C", str(folder), "-c", "user.name=t", "-c", "user.email=t@example.org"]
    return subprocess.run([*command, *args], capture_output=True, text=True, check=True).stdout


@pytest.fixture
def repository(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A git repository with one commit of one tracked file, as the working directory."""
    git(tmp_path, "init", "-q")
    (tmp_path / "tracked.txt").write_text("one\n")
    git(tmp_path, "add", "tracked.txt")
    git(tmp_path, "commit", "-q", "-m", "first")
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def outside_any_job(monkeypatch: pytest.MonkeyPatch) -> None:
    """No DVC experiment and no sweep job in the environment."""
    for variable in ("DVC_EXP_NAME", *ENVIRONMENT.values()):
        monkeypatch.delenv(variable, raising=False)


@pytest.fixture
def hydra_job() -> Iterator[None]:
    """The Hydra config of a job run with OVERRIDES, as `@hydra.main` sets it."""
    cfg = compose_config("train", *OVERRIDES, return_hydra_config=True)
    HydraConfig.instance().set_config(cfg)
    yield
    HydraConfig.instance().cfg = None


def test_git_commit_of_a_clean_work_tree(repository: Path) -> None:
    head = git(repository, "rev-parse", "HEAD").strip()
    assert git_commit() == (head, False)


def test_git_commit_dirty_when_a_tracked_file_changed(repository: Path) -> None:
    (repository / "tracked.txt").write_text("two\n")
    assert git_commit() == (git(repository, "rev-parse", "HEAD").strip(), True)


def test_git_commit_untracked_files_do_not_make_it_dirty(repository: Path) -> None:
    (repository / "new.txt").write_text("untracked\n")
    assert git_commit()[1] is False


def test_git_commit_outside_a_repository_is_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    monkeypatch.chdir(tmp_path)
    assert git_commit() is None


def test_git_commit_without_git_installed_is_none(
    repository: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(repository / "no-binaries-here"))
    assert git_commit() is None


def test_hydra_overrides_outside_hydra_are_empty() -> None:
    assert not HydraConfig.initialized()
    assert hydra_overrides() == []


def test_hydra_overrides_of_a_hydra_job(hydra_job: None) -> None:
    assert hydra_overrides() == OVERRIDES


def test_run_tags_of_a_plain_run(repository: Path, outside_any_job: None, hydra_job: None) -> None:
    assert run_tags("dense", "mnist") == {
        "model": "dense",
        "dataset": "mnist",
        "hydra_overrides": "model=dense train.learning_rate=0.01",
        "mlflow.source.git.commit": git(repository, "rev-parse", "HEAD").strip(),
        "git_dirty": "false",
    }


def test_run_tags_outside_git_and_hydra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, outside_any_job: None
) -> None:
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    monkeypatch.chdir(tmp_path)
    assert run_tags("lenet5", "fashion_mnist") == {
        "model": "lenet5",
        "dataset": "fashion_mnist",
        "hydra_overrides": "",
    }


def test_run_tags_name_the_dvc_experiment(
    repository: Path, outside_any_job: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DVC_EXP_NAME", "bushy-pads")
    assert run_tags("dense", "mnist")["dvc_experiment"] == "bushy-pads"
    monkeypatch.setenv("DVC_EXP_NAME", "")
    assert "dvc_experiment" not in run_tags("dense", "mnist")


def test_run_tags_of_a_sweep_job_nest_it_under_the_parent(
    repository: Path, outside_any_job: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    job_dir = str(repository / "multirun" / "3")
    monkeypatch.setenv(ENVIRONMENT["num"], "3")
    monkeypatch.setenv(ENVIRONMENT["output_dir"], job_dir)
    monkeypatch.setenv(ENVIRONMENT["sweep_id"], "train-20260101-000000-abcdef")
    monkeypatch.setenv(ENVIRONMENT["parent_run_id"], "0123456789abcdef")
    job = current_job()
    assert job is not None

    tags = run_tags("dense", "mnist", job.tags())

    assert tags["sweep_job"] == "3"
    assert tags["sweep_job_dir"] == job_dir
    assert tags["sweep_id"] == "train-20260101-000000-abcdef"
    assert tags[PARENT_RUN_TAG] == "0123456789abcdef"
    assert tags["model"] == "dense"
