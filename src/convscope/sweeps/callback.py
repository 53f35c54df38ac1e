"""Hydra callback that groups a multirun in MLflow: one parent run per sweep, one child per job.

Configured in `conf/sweep.yaml` (`hydra.callbacks.mlflow_sweep`). In the launching
process, before any job starts, it creates the tracking store, the experiment and the parent
run, so that parallel jobs never race to migrate a new SQLite file or to create the experiment.
Each job, in whatever process the launcher runs it, learns its sweep through
`convscope.sweeps.job`, and its run is nested under the parent. When the sweep ends the parent
gets the summary; if the sweep raises first (a failed job makes Hydra's basic sweeper raise once
its batch is done), the parent is ended FAILED when the process exits.

MLflow is imported only once a sweep starts: single runs and config errors stay fast.
"""

from __future__ import annotations

import atexit
import logging
from typing import TYPE_CHECKING, Any

from hydra.core.utils import JobReturn, JobStatus
from hydra.experimental.callback import Callback
from hydra.types import RunMode
from omegaconf import DictConfig

from convscope.sweeps.job import SweepJob, current_job, enter_job, leave_job

if TYPE_CHECKING:
    from convscope.sweeps.parent import ParentRun

log = logging.getLogger(__name__)


def job_failure(job_return: JobReturn) -> str | None:
    """Why a job failed (`"Type: message"`), or None when it succeeded."""
    from convscope.tracking.failure import describe_failure

    if job_return.status != JobStatus.FAILED:
        return None
    try:
        job_return.return_value  # noqa: B018 (re-raises the job's exception)
    except Exception as err:
        return describe_failure(err)
    return "the job failed"


class MlflowSweepCallback(Callback):
    """One MLflow parent run per Hydra multirun, with every job's run nested under it.

    `metric` (higher is better) is the child-run metric that ranks the jobs in the summary.
    """

    def __init__(self, metric: str = "best_val_accuracy") -> None:
        self.metric = metric
        self.parent: ParentRun | None = None
        self._ended = False

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        """Create the store, the experiment and the parent run before any job starts."""
        from convscope.sweeps.parent import start_parent

        self.parent = start_parent(config)
        atexit.register(self._end_unfinished)

    def on_job_start(self, config: DictConfig, **kwargs: Any) -> None:
        """Tell the job's process its own folder, its sweep and its parent run."""
        if config.hydra.mode != RunMode.MULTIRUN:
            return  # a single run (Hydra calls the job hooks for it too)
        enter_job(
            SweepJob(
                num=int(config.hydra.job.num),
                output_dir=str(config.hydra.runtime.output_dir),
                sweep_id=self.parent.sweep_id if self.parent else None,
                parent_run_id=self.parent.run_id if self.parent else None,
            )
        )

    def on_job_end(self, config: DictConfig, job_return: JobReturn, **kwargs: Any) -> None:
        """Record a failed job on MLflow (a FAILED run with the reason), forget the job."""
        if config.hydra.mode != RunMode.MULTIRUN:
            return
        job = current_job()
        leave_job()
        reason = job_failure(job_return)
        if reason is None:
            return
        log.error("Sweep job %s failed: %s", config.hydra.job.num, reason)
        if job is not None and job.parent_run_id is not None:
            from convscope.sweeps.parent import record_job_failure

            record_job_failure(config, job, reason)

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        """Summarize the sweep on its parent run and end it FINISHED."""
        self._end("FINISHED")

    def _end_unfinished(self) -> None:
        """At exit, after a sweep that raised before its end: end the parent run FAILED."""
        self._end("FAILED")

    def _end(self, status: str) -> None:
        if self.parent is None or self._ended:
            return
        from convscope.sweeps.parent import end_parent

        self._ended = True
        atexit.unregister(self._end_unfinished)
        end_parent(self.parent, status, self.metric)
