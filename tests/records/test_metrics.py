"""The evaluation record and the DVC metrics file: the files' keys, round trips, bad files."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from convscope.errors import ConvscopeError
from convscope.records.metrics import EvaluationRecord, MetricsSummary

RECORD = EvaluationRecord(
    test_accuracy=0.99,
    test_loss=0.03,
    test_errors=100,
    test_macro_f1=0.989,
    total_params=61706,
    conv_params=50000,
    dense_params=11706,
    macs_per_image=420000,
    latency_ms_batch1=0.2,
    throughput_batch_size=256,
    throughput_images_per_s=12000.0,
    model_size_bytes=800000,
    train_seconds=30.0,
    seconds_per_epoch=3.0,
    epochs=10,
    mlflow_run_id="abc",
)


def test_the_record_file_keeps_its_keys_and_their_order(tmp_path: Path) -> None:
    path = tmp_path / "metrics.json"
    RECORD.write(path)
    assert list(json.loads(path.read_text())) == [
        "test_accuracy",
        "test_loss",
        "test_errors",
        "test_macro_f1",
        "total_params",
        "conv_params",
        "dense_params",
        "macs_per_image",
        "latency_ms_batch1",
        "throughput_images_per_s_batch256",
        "model_size_bytes",
        "train_seconds",
        "seconds_per_epoch",
        "epochs",
        "mlflow_run_id",
    ]
    assert EvaluationRecord.read(path) == RECORD


def test_the_dvc_metrics_file_summarises_the_seeds_in_six_keys(tmp_path: Path) -> None:
    path = tmp_path / "lenet5.json"
    other = replace(RECORD, test_accuracy=0.98, train_seconds=40.0)
    summary = MetricsSummary.over_seeds([RECORD, other])
    summary.write(path)
    data = json.loads(path.read_text())
    assert list(data) == [
        "test_accuracy",
        "accuracy_std",
        "seeds",
        "params",
        "train_seconds",
        "images_per_s",
    ]
    assert data["test_accuracy"] == pytest.approx(0.985)
    assert data["accuracy_std"] == pytest.approx(0.00707107, rel=1e-5)  # sample std (ddof=1)
    assert (data["seeds"], data["params"], data["images_per_s"]) == (2, 61706, 12000.0)
    assert data["train_seconds"] == pytest.approx(35.0)
    assert MetricsSummary.read(path) == summary


def test_one_seed_has_no_spread() -> None:
    assert MetricsSummary.over_seeds([RECORD]).accuracy_std == 0.0


def test_the_mlflow_metrics_are_the_measured_figures() -> None:
    assert set(RECORD.evaluation_metrics()) == {
        "test_accuracy",
        "test_loss",
        "test_errors",
        "test_macro_f1",
        "macs_per_image",
        "latency_ms_batch1",
        "model_size_bytes",
        "throughput_images_per_s_batch256",
    }


def test_a_record_without_throughput_is_a_one_line_error(tmp_path: Path) -> None:
    path = tmp_path / "metrics.json"
    data = RECORD.to_dict()
    del data["throughput_images_per_s_batch256"]
    path.write_text(json.dumps(data))
    with pytest.raises(ConvscopeError, match=r"lacks throughput_images_per_s_batch<batch size>"):
        EvaluationRecord.read(path)
    path.unlink()
    with pytest.raises(ConvscopeError, match=r"metrics\.json: missing; run `dvc repro evaluate`"):
        EvaluationRecord.read(path)
