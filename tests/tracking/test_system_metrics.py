"""Training runs record CPU, memory and disk use as MLflow system metrics, unless
`tracking.system_metrics` is false."""

from __future__ import annotations

from pathlib import Path

import mlflow
import pytest
from hydra import compose, initialize_config_dir
from mlflow.tracking import MlflowClient
from omegaconf import OmegaConf

from convscope.cli import CONFIG_DIR
from convscope.errors import ConvscopeError
from convscope.models.config import register_configs
from convscope.tracking.system_metrics import system_metrics_interval
from convscope.training.config import register_train_config

# What MLflow's monitor records on a machine without a GPU (psutil's figures).
EXPECTED = {
    "system/cpu_utilization_percentage",
    "system/system_memory_usage_megabytes",
    "system/system_memory_usage_percentage",
    "system/disk_usage_percentage",
    "system/disk_usage_megabytes",
    "system/disk_available_megabytes",
}


@pytest.mark.slow
def test_a_training_run_records_system_metrics(processed_mnist: Path, tmp_path: Path) -> None:
    from convscope.training.trainer import train  # loads TensorFlow

    register_configs()
    register_train_config()
    overrides = [
        "model=dense",
        f"paths.processed={processed_mnist}",
        f"paths.model_dir={tmp_path / 'models' / 'dense'}",
        f"paths.checkpoints={tmp_path / 'checkpoints'}",
        f"tracking.uri=sqlite:///{tmp_path / 'mlflow.db'}",
        f"tracking.artifact_location={tmp_path / 'mlartifacts'}",
        "tracking.log_model=false",
        # Sampled often, so that a run of a few seconds surely gets samples on a fast machine.
        "tracking.system_metrics_interval=0.5",
        "train.subset=300",
        "train.epochs=1",
        "train.verbose=0",
    ]
    with initialize_config_dir(str(CONFIG_DIR), version_base="1.3"):
        cfg = compose("config", overrides)
    assert cfg.tracking.system_metrics is True  # on by default
    previous_uri = mlflow.get_tracking_uri()
    try:
        run_id = train(cfg).run_id
    finally:
        mlflow.set_tracking_uri(previous_uri)

    client = MlflowClient(str(cfg.tracking.uri))
    metrics = client.get_run(run_id).data.metrics
    assert set(metrics) >= EXPECTED, sorted(metrics)
    assert metrics["system/system_memory_usage_megabytes"] > 0
    assert 0 <= metrics["system/cpu_utilization_percentage"] <= 100
    assert client.get_metric_history(run_id, "system/cpu_utilization_percentage")


def test_the_switch_and_the_interval_are_checked() -> None:
    default = OmegaConf.load(CONFIG_DIR / "tracking" / "local.yaml")
    assert default.system_metrics is True
    assert system_metrics_interval(default) == pytest.approx(default.system_metrics_interval)
    assert system_metrics_interval(OmegaConf.create({"system_metrics": False})) is None
    for bad, key in [
        ({"system_metrics": "yes"}, "tracking.system_metrics:"),
        ({"system_metrics": True, "system_metrics_interval": 0}, "system_metrics_interval"),
        ({"system_metrics": True, "system_metrics_interval": "fast"}, "system_metrics_interval"),
    ]:
        with pytest.raises(ConvscopeError, match=key):
            system_metrics_interval(OmegaConf.create(bad))
