"""What a training run logs besides per-epoch metrics, into runs of a real SQLite store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import keras
import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient
from omegaconf import OmegaConf
from support import mlflow_tracking_uri_kept

from convscope.report.kernels import feature_maps, kernel_pictures
from convscope.tracking.artifacts import (
    flatten_config,
    log_config,
    log_feature_maps,
    log_keras_model,
    log_kernels,
    log_parameter_counts,
)
from convscope.tracking.params import MAX_PARAM_LENGTH


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MlflowClient]:
    """A real SQLite store with a local artifact folder, current while this module runs."""
    folder = tmp_path_factory.mktemp("store")
    uri = f"sqlite:///{folder / 'mlflow.db'}"
    with mlflow_tracking_uri_kept():
        mlflow.set_tracking_uri(uri)
        client = MlflowClient(uri)
        experiment = client.create_experiment("artifacts", (folder / "mlartifacts").as_uri())
        mlflow.set_experiment(experiment_id=experiment)
        yield client


@pytest.fixture(scope="module")
def conv_model() -> keras.Model:
    """Two conv layers (3 and 4 maps) on 28x28 images, then a 10-way softmax."""
    keras.utils.set_random_seed(3)
    return keras.Sequential(
        [
            keras.Input((28, 28, 1), name="image"),
            keras.layers.Rescaling(1 / 255, name="rescale"),
            keras.layers.Conv2D(3, 5, activation="relu", name="conv_a"),
            keras.layers.MaxPooling2D(name="pool"),
            keras.layers.Conv2D(4, 3, activation="relu", name="conv_b"),
            keras.layers.Flatten(name="flatten"),
            keras.layers.Dense(10, activation="softmax", name="output"),
        ]
    )


@pytest.fixture(scope="module")
def dense_model() -> keras.Model:
    keras.utils.set_random_seed(4)
    return keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            keras.layers.Flatten(name="flatten"),
            keras.layers.Dense(6, activation="relu", name="hidden"),
            keras.layers.Dense(10, activation="softmax", name="output"),
        ]
    )


@pytest.fixture(scope="module")
def images() -> np.ndarray:
    """Two float32 28x28x1 images of raw pixel values, as the trainer feeds the models."""
    return np.random.default_rng(5).integers(0, 256, (2, 28, 28, 1)).astype("float32")


def artifact_names(client: MlflowClient, run_id: str, folder: str) -> list[str]:
    return sorted(Path(a.path).name for a in client.list_artifacts(run_id, folder))


def test_flatten_config_joins_keys() -> None:
    config = {
        "data": {"name": "mnist", "image_shape": [28, 28]},
        "paths": {"processed": "data/processed/mnist"},
        "train": {"early_stopping": {"patience": 3}, "subset": None},
        "seeds": 3,
    }
    assert flatten_config(config) == {
        "data.name": "mnist",
        "data.image_shape": "[28, 28]",
        "paths.processed": "data/processed/mnist",
        "train.early_stopping.patience": "3",
        "train.subset": "None",
        "seeds": "3",
    }


def test_flatten_config_cuts_values_to_mlflows_param_limit() -> None:
    flat = flatten_config({"notes": "x" * (MAX_PARAM_LENGTH + 10)})
    assert flat["notes"] == "x" * MAX_PARAM_LENGTH


def test_log_config_logs_params_and_the_yaml(client: MlflowClient) -> None:
    config = {"model": {"_target_": "a.B", "name": "lenet5", "filters": [6, 16]}, "seeds": 1}
    with mlflow.start_run() as run:
        log_config(config)

    logged = client.get_run(run.info.run_id).data.params
    assert logged == {
        "model._target_": "a.B",
        "model.name": "lenet5",
        "model.filters": "[6, 16]",
        "seeds": "1",
    }
    yaml_file = client.download_artifacts(run.info.run_id, "config.yaml")
    assert OmegaConf.to_container(OmegaConf.load(yaml_file)) == config


def test_log_parameter_counts_metrics_and_per_layer_table(
    client: MlflowClient, conv_model: keras.Model
) -> None:
    with mlflow.start_run() as run:
        table = log_parameter_counts(conv_model)

    conv_a, conv_b = 5 * 5 * 1 * 3 + 3, 3 * 3 * 3 * 4 + 4  # 78, 112
    output = 10 * 10 * 4 * 10 + 10  # conv_b: 12x12 -> 10x10x4 = 400 inputs
    metrics = client.get_run(run.info.run_id).data.metrics
    assert metrics["total_params"] == metrics["trainable_params"] == conv_a + conv_b + output
    assert (metrics["conv_params"], metrics["dense_params"]) == (conv_a + conv_b, output)
    assert (metrics["conv_layers"], metrics["dense_layers"]) == (2, 1)

    logged = pd.read_csv(client.download_artifacts(run.info.run_id, "parameters/layers.csv"))
    pd.testing.assert_frame_equal(logged, table, check_dtype=False)
    assert logged["layer"].tolist() == ["rescale", "conv_a", "pool", "conv_b", "flatten", "output"]
    assert logged.set_index("layer")["params"].to_dict()["conv_b"] == conv_b
    markdown = client.download_artifacts(run.info.run_id, "parameters/layers.md")
    assert Path(markdown).read_text().count("\n| ") == len(table)  # one row per layer


def test_log_kernels_of_every_conv_layer(client: MlflowClient, conv_model: keras.Model) -> None:
    with mlflow.start_run() as run:
        log_kernels(*kernel_pictures(conv_model, (28, 28)))

    names = artifact_names(client, run.info.run_id, "kernels")
    assert names == ["conv_a.npy", "conv_a.png", "conv_b.npy", "conv_b.png"]
    for layer in ("conv_a", "conv_b"):
        saved = np.load(client.download_artifacts(run.info.run_id, f"kernels/{layer}.npy"))
        np.testing.assert_array_equal(saved, np.asarray(conv_model.get_layer(layer).kernel))


def test_log_kernels_of_a_dense_model_are_its_first_layers_templates(
    client: MlflowClient, dense_model: keras.Model
) -> None:
    with mlflow.start_run() as run:
        log_kernels(*kernel_pictures(dense_model, (28, 28)))

    assert artifact_names(client, run.info.run_id, "kernels") == [
        "hidden.npy",
        "hidden_templates.png",
    ]
    saved = np.load(client.download_artifacts(run.info.run_id, "kernels/hidden.npy"))
    np.testing.assert_array_equal(saved, np.asarray(dense_model.get_layer("hidden").kernel))
    assert saved.shape == (28 * 28, 6)


def test_log_feature_maps_one_png_per_conv_layer_in_order(
    client: MlflowClient, conv_model: keras.Model, images: np.ndarray
) -> None:
    with mlflow.start_run() as run:
        log_feature_maps(feature_maps(conv_model, images[0]))

    names = artifact_names(client, run.info.run_id, "feature_maps")
    assert names == ["00_conv_a.png", "01_conv_b.png"]


def test_log_keras_model_with_signature_and_input_example(
    client: MlflowClient, conv_model: keras.Model, images: np.ndarray
) -> None:
    with mlflow.start_run() as run:
        uri = log_keras_model(conv_model, images)

    info = mlflow.models.get_model_info(uri)
    assert info.run_id == run.info.run_id
    [model_input] = info.signature.inputs.inputs
    assert (model_input.type, model_input.shape) == (np.dtype("float32"), (-1, 28, 28, 1))
    [model_output] = info.signature.outputs.inputs
    assert (model_output.type, model_output.shape) == (np.dtype("float32"), (-1, 10))

    example = mlflow.models.Model.load(uri).load_input_example(uri)
    np.testing.assert_array_equal(example, images)

    loaded = mlflow.pyfunc.load_model(uri)
    np.testing.assert_allclose(
        np.asarray(loaded.predict(example)), conv_model.predict(images, verbose=0), rtol=1e-6
    )
