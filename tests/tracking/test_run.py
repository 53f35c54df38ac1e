"""Training runs record CPU, memory and disk use as MLflow system metrics, unless
`tracking.system_metrics` is false."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from convscope.cli import compose_stage_config
from convscope.errors import ConvscopeError

# What MLflow's monitor records on a machine without a GPU (psutil's figures).
EXPECTED = {
    "system/cpu_utilization_percentage",
    "system/system_memory_usage_megabytes",
    "system/system_memory_usage_percentage",
    "system/disk_usage_percentage",
    "system/disk_usage_megabytes",
    "system/disk_available_megabytes",
}


def train_dense(
    processed: Path, folder: Path, tiny_config: Callable, *overrides: str
) -> tuple[MlflowClient, str]:
    """Train the dense model on 300 images for an epoch, in this process, into a new store in
    `folder`, with system metrics sampled every 0.5 s; the store's client and the run id."""
    from convscope.train import train_seed  # loads TensorFlow when it trains

    cfg = tiny_config(
        "model=dense",
        f"paths.processed={processed}",
        "tracking.log_model=false",
        # Sampled often, so that a run of a few seconds surely gets samples on a fast machine.
        "tracking.system_metrics_interval=0.5",
        "train.subset=300",
        *overrides,
        root=folder,
    )
    return MlflowClient(str(cfg.tracking.uri)), train_seed(cfg).run_id


@pytest.mark.slow
def test_a_training_run_records_system_metrics(
    processed_mnist: Path, tmp_path: Path, tiny_config: Callable
) -> None:
    client, run_id = train_dense(processed_mnist, tmp_path, tiny_config)

    metrics = client.get_run(run_id).data.metrics
    assert set(metrics) >= EXPECTED, sorted(metrics)
    assert metrics["system/system_memory_usage_megabytes"] > 0
    assert 0 <= metrics["system/cpu_utilization_percentage"] <= 100
    assert client.get_metric_history(run_id, "system/cpu_utilization_percentage")


@pytest.mark.slow
def test_with_the_switch_off_a_run_has_no_system_metrics(
    processed_mnist: Path, tmp_path: Path, tiny_config: Callable
) -> None:
    client, run_id = train_dense(
        processed_mnist, tmp_path, tiny_config, "tracking.system_metrics=false"
    )

    metrics = client.get_run(run_id).data.metrics
    assert "best_val_accuracy" in metrics  # the training's own metrics are there
    assert not [key for key in metrics if key.startswith("system/")], sorted(metrics)


def test_the_switch_and_the_interval_are_checked() -> None:
    assert compose_stage_config("train").tracking.system_metrics is True  # on by default
    off = compose_stage_config("train", "tracking.system_metrics=false").tracking
    assert off.system_metrics is False
    for override, message in [
        ("tracking.system_metrics=often", "tracking.system_metrics: Value 'often'"),
        ("tracking.system_metrics_interval=0", "tracking.system_metrics_interval: expected a pos"),
        ("tracking.system_metrics_interval=fast", "tracking.system_metrics_interval: Value 'fast'"),
    ]:
        with pytest.raises(ConvscopeError, match=re.escape(message)):
            compose_stage_config("train", override)
