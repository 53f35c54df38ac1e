"""Where a run comes from: git commit, Hydra overrides, DVC experiment, sweep; recorded as tags."""

from __future__ import annotations

import os
import subprocess

from hydra.core.hydra_config import HydraConfig

from convscope.sweeps.job import current_job


def git_commit() -> tuple[str, bool] | None:
    """The checked-out commit and whether the work tree has uncommitted changes, if in git."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    return commit, bool(status.strip())


def hydra_overrides() -> list[str]:
    """The command-line overrides of the current Hydra job (empty outside Hydra)."""
    if not HydraConfig.initialized():
        return []
    return list(HydraConfig.get().overrides.task)


def run_tags(model: str, dataset: str) -> dict[str, str]:
    """Tags every training run carries, so a run can be traced to its code and config."""
    tags = {"model": model, "dataset": dataset, "hydra_overrides": " ".join(hydra_overrides())}
    commit = git_commit()
    if commit is not None:
        tags["mlflow.source.git.commit"] = commit[0]
        tags["git_dirty"] = str(commit[1]).lower()
    # `dvc exp run` exports the experiment's name to the stages it runs.
    if os.environ.get("DVC_EXP_NAME"):
        tags["dvc_experiment"] = os.environ["DVC_EXP_NAME"]
    # A Hydra multirun job: nest the run under its sweep's parent run.
    job = current_job()
    if job is not None:
        tags.update(job.tags())
    return tags
