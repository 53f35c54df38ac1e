"""Where a run comes from: git commit, Hydra overrides, DVC experiment, sweep; recorded as tags."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping

from hydra.core.hydra_config import HydraConfig

COMMIT_TAG = "mlflow.source.git.commit"  # what MLflow's UI shows as the run's source version
DIRTY_TAG = "git_dirty"


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


def git_tags() -> dict[str, str]:
    """The commit and dirtiness tags of the working directory's git checkout (none outside git)."""
    commit = git_commit()
    if commit is None:
        return {}
    return {COMMIT_TAG: commit[0], DIRTY_TAG: str(commit[1]).lower()}


def hydra_overrides() -> list[str]:
    """The command-line overrides of the current Hydra job (empty outside Hydra)."""
    if not HydraConfig.initialized():
        return []
    return list(HydraConfig.get().overrides.task)


def run_tags(
    model: str,
    dataset: str,
    group_tags: Mapping[str, str] | None = None,
    *,
    seed: int | None = None,
) -> dict[str, str]:
    """Tags every training run carries, so a run can be traced to its code and config, and
    grouped by `model` in the MLflow UI (each `seed` is one run).

    `group_tags` are those of the sweep job the run belongs to (`convscope.sweeps.job`), which
    nest it under the sweep's parent run, or of a study's condition (`study`, `condition`).
    """
    tags = {"model": model, "dataset": dataset, "hydra_overrides": " ".join(hydra_overrides())}
    if seed is not None:
        tags["seed"] = str(seed)
    tags.update(git_tags())
    # `dvc exp run` exports the experiment's name to the stages it runs.
    if os.environ.get("DVC_EXP_NAME"):
        tags["dvc_experiment"] = os.environ["DVC_EXP_NAME"]
    tags.update(group_tags or {})
    return tags
