"""How a sweep job learns its sweep (environment) and what its run carries (tags, summary)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hydra.types import RunMode
from omegaconf import OmegaConf

from convscope.sweeps.callback import MlflowSweepCallback
from convscope.sweeps.job import PARENT_RUN_TAG, SweepJob, current_job, enter_job, leave_job
from convscope.sweeps.summary import JobResult, SweepSummary
from convscope.tracking.context import run_tags


@pytest.fixture
def no_job() -> Iterator[None]:
    """Start and end the test outside any sweep job."""
    leave_job()
    yield
    leave_job()


def test_a_job_entered_in_this_process_is_seen_until_left(no_job: None) -> None:
    job = SweepJob(num=3, output_dir="/sweeps/s/3", sweep_id="train-1", parent_run_id="abc")
    assert current_job() is None
    enter_job(job)
    assert current_job() == job
    tags = run_tags("dense", "mnist", job.tags())
    assert tags[PARENT_RUN_TAG] == "abc"
    assert (tags["sweep_id"], tags["sweep_job"], tags["sweep_job_dir"]) == (
        "train-1",
        "3",
        "/sweeps/s/3",
    )
    leave_job()
    assert current_job() is None
    assert PARENT_RUN_TAG not in run_tags("dense", "mnist")


def test_a_job_without_parent_run_is_not_nested(no_job: None) -> None:
    enter_job(SweepJob(num=0, output_dir="/sweeps/s/0"))
    job = current_job()
    assert job is not None and job.parent_run_id is None
    assert job.tags() == {"sweep_job": "0", "sweep_job_dir": "/sweeps/s/0"}


def result(num: int, status: str, score: float | None, reason: str | None = None) -> JobResult:
    return JobResult(num, f"run{num}", status, f"x={num}", score, reason)


def test_summary_ranks_finished_jobs_and_explains_failures() -> None:
    summary = SweepSummary(
        "s",
        "parent",
        "best_val_accuracy",
        (
            result(0, "FAILED", 0.99, "FloatingPointError: loss became nan"),
            result(1, "FINISHED", 0.5),
            result(2, "FINISHED", 0.7),
            result(3, "FINISHED", None),
        ),
    )
    assert summary.best == summary.jobs[2]
    assert summary.count("FINISHED") == 3
    assert summary.failure_reason() == (
        "1 of 4 jobs failed; first: job 0 (x=0): FloatingPointError: loss became nan"
    )
    data = summary.to_dict({"best_value": 0.7})
    assert (data["jobs_finished"], data["jobs_failed"], data["best"]["run_id"]) == (3, 1, "run2")
    assert data["optimization"] == {"best_value": 0.7}


def test_job_hooks_leave_a_single_run_alone(no_job: None) -> None:
    # Hydra calls on_job_start for single runs too, where the job has no number.
    config = OmegaConf.create({"hydra": {"mode": RunMode.RUN, "job": {"num": "???"}}})
    MlflowSweepCallback().on_job_start(config)
    assert current_job() is None
