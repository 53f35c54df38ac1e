"""What a sweep job knows about its sweep: passed from the Hydra callback through the environment.

The callback sets these variables in the job's own process, whatever the launcher (in-process,
joblib workers, SLURM or Ray), just before the job runs, and removes them afterwards:

- `CONVSCOPE_SWEEP_JOB_DIR`, the job's own output folder, which `conf/paths/default.yaml`
  uses as the root of `paths.models_root` and `paths.checkpoints`, so that no job writes into
  `models/`;
- the sweep id and the parent run, which the job's MLflow run carries as tags (`tags()`).

Kept free of MLflow and Hydra imports: the tracking code imports it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

PARENT_RUN_TAG = "mlflow.parentRunId"  # what MLflow's own nested runs carry
SWEEP_ID_TAG = "sweep_id"
JOB_NUM_TAG = "sweep_job"
JOB_DIR_TAG = "sweep_job_dir"

ENVIRONMENT = {
    "num": "CONVSCOPE_SWEEP_JOB",
    "output_dir": "CONVSCOPE_SWEEP_JOB_DIR",
    "sweep_id": "CONVSCOPE_SWEEP_ID",
    "parent_run_id": "CONVSCOPE_SWEEP_PARENT_RUN_ID",
}


@dataclass(frozen=True)
class SweepJob:
    """One job of a sweep: its number, its output folder, its sweep and parent run.

    `sweep_id` and `parent_run_id` are None when the parent run could not be created (the
    sweep still runs, and its jobs still write into their own folders).
    """

    num: int
    output_dir: str
    sweep_id: str | None = None
    parent_run_id: str | None = None

    def tags(self) -> dict[str, str]:
        """The MLflow tags of the job's run (the parent tag makes it a nested run)."""
        tags = {JOB_NUM_TAG: str(self.num), JOB_DIR_TAG: self.output_dir}
        if self.sweep_id and self.parent_run_id:
            tags.update({SWEEP_ID_TAG: self.sweep_id, PARENT_RUN_TAG: self.parent_run_id})
        return tags


def enter_job(job: SweepJob) -> None:
    """Announce `job` to the code running in this process (sets the environment variables)."""
    for field, variable in ENVIRONMENT.items():
        value = getattr(job, field)
        if value is not None:
            os.environ[variable] = str(value)


def leave_job() -> None:
    """Forget the current job (a later job or run in this process is not part of it)."""
    for variable in ENVIRONMENT.values():
        os.environ.pop(variable, None)


def current_job(environ: Mapping[str, str] = os.environ) -> SweepJob | None:
    """The sweep job this process is running, or None outside a sweep."""
    num, output_dir = environ.get(ENVIRONMENT["num"]), environ.get(ENVIRONMENT["output_dir"])
    if not num or not output_dir:
        return None
    return SweepJob(
        num=int(num),
        output_dir=output_dir,
        sweep_id=environ.get(ENVIRONMENT["sweep_id"]) or None,
        parent_run_id=environ.get(ENVIRONMENT["parent_run_id"]) or None,
    )
