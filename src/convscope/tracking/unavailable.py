"""An MLflow store that stopped taking writes in the middle of a stage: a tracking server that
no longer answers after MLflow's own retries, or a local database on a full disk."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

import mlflow
import requests
from mlflow.exceptions import MlflowException

from convscope.errors import ConvscopeError, first_line

# What MLflow's REST client raises once its retries are spent (mlflow/utils/rest_utils.py).
REQUEST_FAILED = ("API request to ", " failed with exception ")
RETRY_SETTINGS = (
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES, MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR, "
    "MLFLOW_HTTP_REQUEST_TIMEOUT"
)


def _chain(err: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = err
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def server_unreachable(err: BaseException) -> bool:
    """True when `err` says the tracking server did not answer, after MLflow's retries."""
    for each in _chain(err):
        if isinstance(each, requests.exceptions.ConnectionError | requests.exceptions.Timeout):
            return True
        if isinstance(each, MlflowException) and all(part in str(each) for part in REQUEST_FAILED):
            return True
    return False


def store_full(err: BaseException) -> bool:
    """True when `err` says the local SQLite store could not grow (disk, quota or size limit)."""
    return any(
        isinstance(each, sqlite3.OperationalError) and "disk is full" in str(each)
        for each in _chain(err)
    )


def unavailable_store_line(err: BaseException) -> str | None:
    """The one line for an MLflow store that stopped taking writes, or None for other errors."""
    uri = mlflow.get_tracking_uri()
    if server_unreachable(err):
        return (
            f"tracking.uri: the MLflow tracking server at {uri} stopped answering, after "
            f"MLflow's retries ({RETRY_SETTINGS} set them): {first_line(err)[:300]}"
        )
    if store_full(err):
        path = uri.removeprefix("sqlite:///") if uri.startswith("sqlite:///") else uri
        return f"{path}: no space left on device (the MLflow store)"
    return None


@contextmanager
def unavailable_store_reported() -> Iterator[None]:
    """Re-raise an MLflow store that stopped taking writes as a one-line ConvscopeError."""
    try:
        yield
    except Exception as err:
        line = unavailable_store_line(err)
        if line is None:
            raise
        raise ConvscopeError(line) from err
