"""A sweep's parent run from start to end: what it records about the sweep, and its summary.

Called by `convscope.sweeps.callback` in the launching process (start and end) and in each job's
process (recording a job that failed before opening its own run).
"""

from __future__ import annotations

import logging
import re
import shlex
import sys
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from mlflow.tracking import MlflowClient
from omegaconf import DictConfig, OmegaConf

from convscope.sweeps.job import SweepJob
from convscope.sweeps.runs import (
    child_runs,
    create_parent_run,
    find_job_run,
    finish_parent_run,
    record_failed_job,
)
from convscope.sweeps.summary import read_optimization_results, summarize, write_summary
from convscope.tracking.context import git_tags, run_tags
from convscope.tracking.params import flatten
from convscope.tracking.store import connect

log = logging.getLogger(__name__)

SUMMARY_FILE = "sweep_results.yaml"
OPTUNA_RESULTS_FILE = "optimization_results.yaml"  # written by convscope.sweeps.study


@dataclass(frozen=True)
class ParentRun:
    """The parent run of one sweep and where the sweep writes."""

    sweep_id: str
    run_id: str
    tracking_uri: str
    sweep_dir: Path


def new_sweep_id(job_name: str) -> str:
    """A readable, unique sweep id: `<job name>-<YYYYmmdd-HHMMSS>-<6 hex digits>`."""
    return f"{job_name}-{datetime.now():%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:6]}"


def overrides(config: DictConfig, kind: str) -> list[str]:
    """The sweep's command-line overrides of `kind` ("task" or "hydra"), as typed."""
    return [str(item) for item in OmegaConf.to_container(config.hydra.overrides[kind])]


def param_key(name: str) -> str:
    """`name` with the characters MLflow refuses in a param key replaced by `_`."""
    return re.sub(r"[^\w\-. /]", "_", name)


def sweep_params(config: DictConfig) -> dict[str, str]:
    """The sweep's definition as params: its overrides, search space, sweeper and launcher.

    A swept key keeps its name (`train.learning_rate` = `1e-3,3e-3`), so in the MLflow runs
    table the parent's row shows the search space in the column of its children's values.
    """
    sweeper = OmegaConf.to_container(config.hydra.sweeper, resolve=False)
    assert isinstance(sweeper, dict)
    search_space = sweeper.pop("params", None) or {}
    params = {param_key(str(key)): str(value) for key, value in search_space.items()}
    # Command-line overrides last: they win over the configured search space, as in the sweep.
    for override in overrides(config, "task"):
        key, assigned, value = override.partition("=")
        if assigned:
            params[param_key(key.lstrip("+~"))] = value
    params.update(flatten(sweeper, "sweeper"))
    params.update(flatten(OmegaConf.to_container(config.hydra.launcher, resolve=False), "launcher"))
    return params


def sweep_tags(config: DictConfig, sweep_dir: Path) -> dict[str, str]:
    """Where the sweep comes from: its command, overrides, folder, sweeper, launcher, commit."""
    choices = config.hydra.runtime.choices
    tags = {
        "sweep_command": shlex.join(sys.orig_argv),
        "sweep_overrides": " ".join(overrides(config, "task")),
        "sweep_hydra_overrides": " ".join(overrides(config, "hydra")),
        "sweep_dir": str(sweep_dir),
        "sweeper": str(choices.get("hydra/sweeper")),
        "launcher": str(choices.get("hydra/launcher")),
    }
    return tags | git_tags()


def start_parent(config: DictConfig) -> ParentRun:
    """Create the store, the experiment and the sweep's parent run (RUNNING).

    `config` is the sweep's config (`on_multirun_start`): its `tracking` group is where the
    jobs log unless they override it.
    """
    experiment_id = connect(config.tracking)
    uri = str(config.tracking.uri)
    sweep_dir = Path(str(config.hydra.sweep.dir)).resolve()
    sweep_id = new_sweep_id(str(config.hydra.job.name))
    client = MlflowClient(uri)
    run_id = create_parent_run(
        client, experiment_id, sweep_id, sweep_tags(config, sweep_dir), sweep_params(config)
    )
    client.log_text(run_id, OmegaConf.to_yaml(config), "sweep_config.yaml")
    log.info("Sweep %s: MLflow parent run %s in %s", sweep_id, run_id, uri)
    return ParentRun(sweep_id, run_id, uri, sweep_dir)


def end_parent(parent: ParentRun, status: str, metric: str) -> None:
    """Write `sweep_results.yaml`, log it (and Optuna's results) to the parent, end it.

    Best params: Optuna's `best_params` when the sweeper wrote them, else the best job's
    overrides. A FAILED parent gets the reason (which jobs failed) as a tag.
    """
    client = MlflowClient(parent.tracking_uri)
    summary = summarize(parent.sweep_id, parent.run_id, child_runs(client, parent.run_id), metric)
    optimization = read_optimization_results(parent.sweep_dir / OPTUNA_RESULTS_FILE)
    files = [parent.sweep_dir / SUMMARY_FILE]
    write_summary(files[0], summary.to_dict(optimization))
    best_params: dict[str, object] = {}
    if optimization is not None:
        files.append(parent.sweep_dir / OPTUNA_RESULTS_FILE)
        best_params = dict(optimization.get("best_params") or {})
    elif summary.best is not None:
        best_params = {"overrides": summary.best.overrides}
    reason = summary.failure_reason() if status == "FAILED" else None
    finish_parent_run(client, summary, best_params, files, status, reason)
    log.info(
        "Sweep %s %s: %d jobs finished, %d failed; summary in %s",
        parent.sweep_id,
        status,
        summary.count("FINISHED"),
        len(summary.failed),
        files[0],
    )


def record_job_failure(config: DictConfig, job: SweepJob, reason: str) -> None:
    """Make sure failed job `job` has a FAILED child run with the reason.

    The trainer's run is already FAILED and tagged; this covers a job that failed before
    opening it (a bad value from the search space, an unreadable data folder).
    """
    experiment_id = connect(config.tracking)
    client = MlflowClient(str(config.tracking.uri))
    if find_job_run(client, experiment_id, job) is None:
        model, dataset = str(config.model.name), str(config.data.name)
        record_failed_job(client, experiment_id, job, model, run_tags(model, dataset), reason)
