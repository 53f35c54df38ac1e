"""A study's summary run in MLflow: its section, results table and figures, and its costs."""

from __future__ import annotations

from pathlib import Path

import mlflow

from convscope.records.study import StudyRecord
from convscope.tracking.context import git_tags
from convscope.tracking.unavailable import unavailable_store_reported

SUMMARY_CONDITION = "summary"


def log_study_summary(
    experiment_id: str, record: StudyRecord, folder: Path, figures: list[Path]
) -> str:
    """Log study `record`'s files (`folder`'s section and table, the `figures`) and costs as
    one run tagged `study` and `condition=summary`; return its run id."""
    tags = {"study": record.name, "condition": SUMMARY_CONDITION, **git_tags()}
    with (
        unavailable_store_reported(),
        mlflow.start_run(
            experiment_id=experiment_id, run_name=f"study {record.name}", tags=tags
        ) as run,
    ):
        mlflow.set_tag("mlflow.note.content", f"{record.claim}\n\n{record.headline}")
        mlflow.log_metrics(
            {
                "seconds": record.seconds,
                "trainings": float(record.trainings),
                "optimizer_steps": float(record.optimizer_steps),
                "images_evaluated": float(record.images_evaluated),
            }
        )
        mlflow.log_param("seeds", record.seeds)
        for path in sorted(folder.iterdir()):
            mlflow.log_artifact(str(path))
        for path in figures:
            mlflow.log_artifact(str(path), artifact_path="figures")
        return run.info.run_id
