"""Failure reasons: their one-line form, and the tag a failing block leaves on a real run."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import mlflow
import pytest
from mlflow.tracking import MlflowClient
from support import mlflow_tracking_uri_kept

from convscope.tracking.failure import (
    FAILURE_TAG,
    MAX_REASON_LENGTH,
    describe_failure,
    failure_tagged,
)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MlflowClient]:
    """A real SQLite store, the current tracking URI while this module runs."""
    uri = f"sqlite:///{tmp_path_factory.mktemp('store') / 'mlflow.db'}"
    with mlflow_tracking_uri_kept():
        mlflow.set_tracking_uri(uri)
        mlflow.set_experiment("failures")
        yield MlflowClient(uri)


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (ValueError("bad value"), "ValueError: bad value"),
        (FloatingPointError("loss became nan\nin epoch 3"), "FloatingPointError: loss became nan"),
        (KeyError("model"), "KeyError: 'model'"),
        (RuntimeError(), "RuntimeError"),
        (OSError("   \n  "), "OSError"),
    ],
)
def test_describe_failure_is_the_type_and_first_line(error: BaseException, reason: str) -> None:
    assert describe_failure(error) == reason


def test_describe_failure_is_cut_to_a_tag_length() -> None:
    reason = describe_failure(ValueError("x" * 5000))
    assert len(reason) == MAX_REASON_LENGTH
    assert reason.startswith("ValueError: xxx")


def test_failing_block_tags_the_run_which_ends_failed(client: MlflowClient) -> None:
    with (
        pytest.raises(FloatingPointError, match="loss became nan"),
        mlflow.start_run() as run,
        failure_tagged(),
    ):
        raise FloatingPointError("loss became nan in epoch 2\nsecond line")

    finished = client.get_run(run.info.run_id)
    assert finished.info.status == "FAILED"
    assert finished.data.tags[FAILURE_TAG] == "FloatingPointError: loss became nan in epoch 2"


def test_succeeding_block_leaves_no_reason(client: MlflowClient) -> None:
    with mlflow.start_run() as run, failure_tagged():
        mlflow.log_metric("accuracy", 0.9)

    finished = client.get_run(run.info.run_id)
    assert finished.info.status == "FINISHED"
    assert FAILURE_TAG not in finished.data.tags


def test_interrupt_ends_the_run_killed_without_a_failure_reason(client: MlflowClient) -> None:
    with pytest.raises(KeyboardInterrupt), mlflow.start_run() as run, failure_tagged():
        raise KeyboardInterrupt

    interrupted = client.get_run(run.info.run_id)
    assert interrupted.info.status == "KILLED"  # start_run's own exit would say FAILED
    assert FAILURE_TAG not in interrupted.data.tags


def test_untaggable_run_logs_a_warning_and_reraises_the_original_error(
    client: MlflowClient, caplog: pytest.LogCaptureFixture
) -> None:
    run = mlflow.start_run()
    try:
        client.delete_run(run.info.run_id)  # a deleted run takes no more tags
        with (
            caplog.at_level(logging.WARNING, logger="convscope.tracking.failure"),
            pytest.raises(ValueError, match="the original error"),
            failure_tagged(),
        ):
            raise ValueError("the original error")
    finally:
        client.restore_run(run.info.run_id)
        mlflow.end_run()

    [record] = caplog.records
    assert record.getMessage().startswith("Could not record the failure on the MLflow run: ")
    assert FAILURE_TAG not in client.get_run(run.info.run_id).data.tags
