"""The studies' outputs in the suite's shared tiny pipeline run (`mnist_pipeline`)."""

from __future__ import annotations

from pathlib import Path

import mlflow
import pandas as pd
import pytest

from convscope.records.metrics import RECORD_FILE, EvaluationRecord
from convscope.records.study import RESULTS_FILE, study_dir


@pytest.fixture(scope="session")
def study_results(mnist_pipeline):
    """`study_results(name)`: the study's results table in the shared pipeline's reports."""
    return lambda name: pd.read_csv(
        study_dir(mnist_pipeline.workspace.reports, name) / RESULTS_FILE
    )


@pytest.fixture(scope="session")
def main_accuracy(mnist_pipeline):
    """`main_accuracy(model, seed)`: the main comparison's test accuracy of that seed."""

    def read(model: str, seed: int) -> float:
        folder = mnist_pipeline.workspace.evaluation_dir(model, seed)
        return EvaluationRecord.read(Path(folder) / RECORD_FILE).test_accuracy

    return read


@pytest.fixture(scope="session")
def study_runs(mnist_pipeline):
    """`study_runs(name)`: the MLflow runs tagged with study `name`."""
    client = mlflow.MlflowClient(mnist_pipeline.workspace.tracking_uri)
    return lambda name: client.search_runs(
        [mnist_pipeline.experiment_id], filter_string=f"tags.study = '{name}'"
    )
