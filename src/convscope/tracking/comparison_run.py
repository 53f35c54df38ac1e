"""The comparison in MLflow: a `comparison` run of the experiment, beside the seeds' runs.

It holds the per-model summary over seeds as a table (`comparison.json`, shown by the run's
Artifacts tab and by `mlflow.load_table`), and `comparison.md`, the CSVs and the figures as
artifacts, so a user of the MLflow UI finds the verdict where the runs are. Tagged
`stage=compare`, so it is easy to filter out of (or into) the run list.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import mlflow
import pandas as pd

from convscope.tracking.config import TrackingConfig
from convscope.tracking.context import git_tags
from convscope.tracking.failure import failure_tagged
from convscope.tracking.store import connect

STAGE_TAG = "stage"
REPORT_FILES = ("comparison.md", "comparison.csv", "comparison_pairs.csv")


def log_comparison(
    tracking: TrackingConfig,
    dataset: str,
    models: pd.DataFrame,
    reports: Path,
    figures: Sequence[Path],
) -> str:
    """Log the comparison as a new run named `comparison`; return its id."""
    experiment_id = connect(tracking)
    with (
        mlflow.start_run(
            experiment_id=experiment_id,
            run_name="comparison",
            tags={STAGE_TAG: "compare", "dataset": dataset, **git_tags()},
        ) as run,
        failure_tagged(),
    ):
        mlflow.log_table(models, "comparison.json")
        for name in REPORT_FILES:
            mlflow.log_artifact(str(reports / name))
        for figure in figures:
            mlflow.log_artifact(str(figure), "figures")
    return run.info.run_id
