"""How a run ended badly, recorded so that the MLflow UI (and a sweep's summary) shows it: the
reason of a failure as a tag, an interrupt (Ctrl-C, SIGTERM) as the status KILLED."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import mlflow
from mlflow.entities import RunStatus
from mlflow.exceptions import MlflowException

from convscope.errors import first_line

FAILURE_TAG = "failure_reason"
MAX_REASON_LENGTH = 1000

log = logging.getLogger(__name__)


def describe_failure(err: BaseException) -> str:
    """`"<ExceptionType>: <first line of the message>"`, short enough for an MLflow tag."""
    name = type(err).__name__
    reason = f"{name}: {first_line(err)}" if str(err).strip() else name
    return reason[:MAX_REASON_LENGTH]


@contextmanager
def failure_tagged() -> Iterator[None]:
    """Tag the active MLflow run with the reason when the block raises, then re-raise.

    Use inside `with mlflow.start_run()`, which then ends the run as FAILED. An interrupt
    (KeyboardInterrupt, which the stages also raise on SIGTERM) ends the run here as KILLED,
    since `start_run`'s exit would mark it FAILED; it gets no reason tag.
    """
    try:
        yield
    except KeyboardInterrupt:
        try:
            mlflow.end_run(RunStatus.to_string(RunStatus.KILLED))
        except MlflowException as end_error:
            log.warning("Could not mark the MLflow run KILLED: %s", end_error)
        raise
    except Exception as err:
        try:
            mlflow.set_tag(FAILURE_TAG, describe_failure(err))
        except MlflowException as tag_error:
            log.warning("Could not record the failure on the MLflow run: %s", tag_error)
        raise
