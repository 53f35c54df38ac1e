"""Training end to end on a few hundred real MNIST images, logged to a real SQLite store."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from convscope.data.arrays import as_model_input
from convscope.records.seeds import seed_dir
from convscope.train import train_seed


@pytest.mark.slow
@pytest.mark.parametrize("model", ["lenet5", "dense"])
def test_training_logs_a_complete_run(
    tmp_path: Path, processed_mnist: Path, model: str, tiny_config: Callable
) -> None:
    cfg = tiny_config(
        f"model={model}", f"paths.processed={processed_mnist}", "train.subset=512", root=tmp_path
    )
    result = train_seed(cfg)

    client = MlflowClient(f"sqlite:///{tmp_path / 'mlflow.db'}")
    run = client.get_run(result.run_id)
    assert run.info.status == "FINISHED"
    assert run.info.run_name == f"{model} seed {cfg.train.seed}"
    assert client.get_experiment(run.info.experiment_id).name == "mnist"
    assert run.data.tags["model"] == model and run.data.tags["dataset"] == "mnist"
    assert run.data.tags["seed"] == str(cfg.train.seed)
    assert "mlflow.source.git.commit" in run.data.tags

    params = run.data.params
    assert params["model.name"] == model
    assert params["train.batch_size"] == str(cfg.train.batch_size)
    assert params["train.subset"] == "512"

    metrics = run.data.metrics
    assert metrics["total_params"] == metrics["trainable_params"] > 0
    assert metrics["total_params"] == metrics["conv_params"] + metrics["dense_params"]
    for key in ("loss", "accuracy", "val_loss", "val_accuracy", "epoch_seconds"):
        history = client.get_metric_history(result.run_id, key)
        assert [m.step for m in history] == [1], key
    assert metrics["images_per_second"] > 0
    # The trainer times its own parts, and logs them.
    parts = ("load_data", "build_model", "log_run_info", "fit", "figures", "log_model")
    parts += ("write_outputs",)
    assert {key for key in metrics if key.startswith("time_")} == {
        f"time_{p}_seconds" for p in parts
    }
    assert all(metrics[f"time_{part}_seconds"] > 0 for part in parts)

    listed = {a.path for a in client.list_artifacts(result.run_id)}
    assert {"config.yaml", "parameters", "kernels", "history.csv"} <= listed
    layers = pd.read_csv(client.download_artifacts(result.run_id, "parameters/layers.csv"))
    assert layers["params"].sum() == metrics["total_params"]
    kernels = sorted(Path(a.path).name for a in client.list_artifacts(result.run_id, "kernels"))
    maps = sorted(Path(a.path).name for a in client.list_artifacts(result.run_id, "feature_maps"))
    if model == "lenet5":
        # Every one of LeNet-5's three conv layers: C1, C3 and C5.
        assert kernels == ["C1.npy", "C1.png", "C3.npy", "C3.png", "C5.npy", "C5.png"]
        assert maps == ["00_C1.png", "01_C3.png", "02_C5.png"]
        shapes = {"C1": (5, 5, 1, 6), "C3": (5, 5, 6, 16), "C5": (5, 5, 16, 120)}
        for layer, shape in shapes.items():
            kernel = np.load(client.download_artifacts(result.run_id, f"kernels/{layer}.npy"))
            assert kernel.shape == shape, layer
    else:
        assert kernels == ["fc1.npy", "fc1_templates.png"]
        assert maps == []
        kernel = np.load(client.download_artifacts(result.run_id, "kernels/fc1.npy"))
        assert kernel.shape == (28 * 28, 512)

    # One seed's folder (train.seed) under the model's folder, nothing else.
    outputs = seed_dir(cfg.paths.model_dir(model), cfg.train.seed)
    assert [p.name for p in outputs.parent.iterdir()] == [outputs.name]
    assert {p.name for p in outputs.iterdir()} == {"model.keras", "history.csv", "run.json"}
    recorded = json.loads((outputs / "run.json").read_text())
    assert recorded["run_id"] == result.run_id
    assert not cfg.paths.checkpoint_dir(model).exists(), "checkpoint left behind after success"

    # The logged model is usable without convscope: MLflow's pyfunc flavour predicts.
    pyfunc = mlflow.pyfunc.load_model(recorded["model_uri"])
    test_images = as_model_input(np.load(processed_mnist / "test_images.npy")[:8])
    probabilities = np.asarray(pyfunc.predict(test_images))
    assert probabilities.shape == (8, 10)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-4)
