"""Trainings run in this process point MLflow at their own temporary store: undo that after
each test, so that later tests and the stage processes they start do not inherit it."""

from __future__ import annotations

import os
from collections.abc import Iterator

import mlflow
import pytest

URI_VARIABLE = "MLFLOW_TRACKING_URI"


@pytest.fixture(autouse=True)
def restore_mlflow_tracking_uri() -> Iterator[None]:
    """`mlflow.set_tracking_uri` (called by the trainer) also exports MLFLOW_TRACKING_URI."""
    previous, exported = mlflow.get_tracking_uri(), os.environ.get(URI_VARIABLE)
    yield
    mlflow.set_tracking_uri(previous)
    if exported is None:
        os.environ.pop(URI_VARIABLE, None)
    else:
        os.environ[URI_VARIABLE] = exported
