"""A sweep's outcome: every job's run, status and score, the best job, Optuna's best params.

Written as `sweep_results.yaml` in the sweep folder and logged to the parent run, so that a
grid sweep has a best-params file just like an Optuna search (`optimization_results.yaml`).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import yaml
from mlflow.entities import Run

from convscope.atomic import write_text
from convscope.sweeps.job import JOB_NUM_TAG
from convscope.tracking.failure import FAILURE_TAG

OVERRIDES_TAG = "hydra_overrides"  # set on every run by convscope.tracking.context.run_tags


@dataclass(frozen=True)
class JobResult:
    """One job of the sweep as its MLflow run recorded it."""

    num: int
    run_id: str
    status: str
    overrides: str
    score: float | None
    failure_reason: str | None


@dataclass(frozen=True)
class SweepSummary:
    """Every job of one sweep; `metric` (higher is better) ranks them."""

    sweep_id: str
    parent_run_id: str
    metric: str
    jobs: tuple[JobResult, ...]

    def count(self, status: str) -> int:
        """How many jobs ended with MLflow run status `status` (FINISHED, FAILED, ...)."""
        return sum(job.status == status for job in self.jobs)

    @property
    def failed(self) -> tuple[JobResult, ...]:
        """The jobs whose run did not finish."""
        return tuple(job for job in self.jobs if job.status != "FINISHED")

    @property
    def best(self) -> JobResult | None:
        """The finished job with the highest score, if any."""
        scored = [j for j in self.jobs if j.status == "FINISHED" and j.score is not None]
        return max(scored, key=lambda job: job.score) if scored else None

    def failure_reason(self) -> str:
        """Why the sweep as a whole did not complete, for the parent run's tag."""
        if not self.failed:
            return "the sweep stopped before all its jobs ended (interrupted or crashed)"
        first = self.failed[0]
        return (
            f"{len(self.failed)} of {len(self.jobs)} jobs failed; first: job {first.num} "
            f"({first.overrides}): {first.failure_reason or first.status}"
        )

    def to_dict(self, optimization: dict[str, Any] | None = None) -> dict[str, Any]:
        """Plain data for `sweep_results.yaml` (with Optuna's results when there are some)."""
        best = self.best
        data: dict[str, Any] = {
            "sweep_id": self.sweep_id,
            "parent_run_id": self.parent_run_id,
            "metric": self.metric,
            "jobs_finished": self.count("FINISHED"),
            "jobs_failed": len(self.failed),
            "best": asdict(best) if best else None,
            "jobs": [asdict(job) for job in self.jobs],
        }
        if optimization is not None:
            data["optimization"] = optimization
        return data


def job_result(run: Run, metric: str) -> JobResult:
    """What the sweep summary keeps of one job's run."""
    score = run.data.metrics.get(metric)
    tags = run.data.tags
    return JobResult(
        num=int(tags.get(JOB_NUM_TAG, -1)),
        run_id=run.info.run_id,
        status=run.info.status,
        overrides=tags.get(OVERRIDES_TAG, ""),
        score=score if score is not None and math.isfinite(score) else None,
        failure_reason=tags.get(FAILURE_TAG),
    )


def summarize(sweep_id: str, parent_run_id: str, runs: list[Run], metric: str) -> SweepSummary:
    """The summary of a sweep from its child runs (in job order)."""
    jobs = sorted((job_result(run, metric) for run in runs), key=lambda job: job.num)
    return SweepSummary(sweep_id, parent_run_id, metric, tuple(jobs))


def write_summary(path: Path, data: dict[str, Any]) -> None:
    """Atomically write a summary (from `SweepSummary.to_dict`) as YAML."""
    write_text(path, yaml.safe_dump(data, sort_keys=False))


def read_optimization_results(path: Path) -> dict[str, Any] | None:
    """Optuna sweeper's `optimization_results.yaml` (best_params, best_value), if written."""
    if not path.exists():
        return None
    return yaml.safe_load(path.read_text())
