"""The sweep's MLflow runs: the parent run, finding a job's child run, recording a failed job.

All through `MlflowClient`, never the fluent API: the parent run must not become the active
run of the launching process, which (with Hydra's basic launcher) also runs the jobs.
"""

from __future__ import annotations

from pathlib import Path

from mlflow.entities import Metric, Param, Run, RunStatus, RunTag
from mlflow.tracking import MlflowClient
from mlflow.utils.time import get_current_time_millis

from convscope.sweeps.job import JOB_NUM_TAG, PARENT_RUN_TAG, SWEEP_ID_TAG, SweepJob
from convscope.sweeps.summary import SweepSummary
from convscope.tracking.failure import FAILURE_TAG
from convscope.tracking.params import param_value


def create_parent_run(
    client: MlflowClient,
    experiment_id: str,
    sweep_id: str,
    tags: dict[str, str],
    params: dict[str, str],
) -> str:
    """Create the sweep's parent run (RUNNING) with its tags and params; return its id."""
    run = client.create_run(experiment_id, run_name=sweep_id, tags={SWEEP_ID_TAG: sweep_id, **tags})
    run_id = run.info.run_id
    client.log_batch(
        run_id, params=[Param(key, param_value(value)) for key, value in params.items()]
    )
    return run_id


def search_all(client: MlflowClient, experiment_ids: list[str], filter_string: str) -> list[Run]:
    """Every run matching `filter_string` in the experiments, across result pages."""
    runs: list[Run] = []
    token = None
    while True:
        page = client.search_runs(experiment_ids, filter_string, page_token=token)
        runs.extend(page)
        token = page.token
        if not token:
            return runs


def child_runs(client: MlflowClient, parent_run_id: str) -> list[Run]:
    """The runs nested under `parent_run_id`, in any experiment (a sweep may change it)."""
    experiment_ids = [e.experiment_id for e in client.search_experiments()]
    return search_all(client, experiment_ids, f"tags.`{PARENT_RUN_TAG}` = '{parent_run_id}'")


def find_job_run(client: MlflowClient, experiment_id: str, job: SweepJob) -> Run | None:
    """The run that sweep job `job` opened in the experiment, if it got that far."""
    assert job.sweep_id is not None, "a job without a sweep id has no run to look up"
    runs = search_all(
        client,
        [experiment_id],
        f"tags.{SWEEP_ID_TAG} = '{job.sweep_id}' and tags.{JOB_NUM_TAG} = '{job.num}'",
    )
    return runs[0] if runs else None


def record_failed_job(
    client: MlflowClient,
    experiment_id: str,
    job: SweepJob,
    run_name: str,
    tags: dict[str, str],
    reason: str,
) -> str:
    """A FAILED child run for a job that failed before opening its own run; return its id."""
    run = client.create_run(
        experiment_id, run_name=run_name, tags={**tags, **job.tags(), FAILURE_TAG: reason}
    )
    client.set_terminated(run.info.run_id, RunStatus.to_string(RunStatus.FAILED))
    return run.info.run_id


def finish_parent_run(
    client: MlflowClient,
    summary: SweepSummary,
    best_params: dict[str, object],
    files: list[Path],
    status: str,
    reason: str | None,
) -> None:
    """Log the sweep's outcome to its parent run and end it with `status`.

    Metrics: job counts and the best score; params `best.<name>`; tags `best_run_id`,
    `best_job` and, when the sweep failed, `failure_reason`; `files` as artifacts.
    """
    now = get_current_time_millis()
    metrics: dict[str, float] = {
        "jobs": len(summary.jobs),
        "jobs_finished": summary.count("FINISHED"),
        "jobs_failed": len(summary.failed),
    }
    tags: dict[str, str] = {}
    best = summary.best
    if best is not None and best.score is not None:  # a best job always has a score
        metrics[summary.metric] = best.score
        tags.update({"best_run_id": best.run_id, "best_job": str(best.num)})
    if reason is not None:
        tags[FAILURE_TAG] = reason
    client.log_batch(
        summary.parent_run_id,
        metrics=[Metric(key, float(value), now, 0) for key, value in metrics.items()],
        params=[Param(f"best.{k}", param_value(v)) for k, v in best_params.items()],
        tags=[RunTag(key, value) for key, value in tags.items()],
    )
    for path in files:
        client.log_artifact(summary.parent_run_id, str(path))
    client.set_terminated(summary.parent_run_id, status)
