"""What a training run logs to MLflow beyond per-epoch metrics: the comparison's evidence.

All functions log into the active MLflow run.
"""

from __future__ import annotations

import contextlib
import io
import tempfile
from pathlib import Path
from typing import Any

import keras
import matplotlib.pyplot as plt
import mlflow
import numpy as np
import pandas as pd
import tensorflow as tf
from matplotlib.figure import Figure
from mlflow.models import infer_signature
from omegaconf import DictConfig, OmegaConf

from convscope.models.layers import layer_table, parameter_summary
from convscope.report.kernels import dense_templates, feature_maps, kernel_grid

MAX_PARAM_LENGTH = 6000  # MLflow's limit on a param value


def flatten_config(cfg: DictConfig) -> dict[str, str]:
    """The resolved config as `{"model.filters": "[32, 64, 64]", ...}`, ready for log_params."""
    flat: dict[str, str] = {}

    def walk(node: Any, prefix: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                walk(value, f"{prefix}{key}.")
        else:
            flat[prefix[:-1]] = str(node)[:MAX_PARAM_LENGTH]

    walk(OmegaConf.to_container(cfg, resolve=True), "")
    return flat


def log_config(cfg: DictConfig) -> None:
    """Log the resolved config flattened as params and whole as `config.yaml`."""
    mlflow.log_params(flatten_config(cfg))
    mlflow.log_text(OmegaConf.to_yaml(cfg, resolve=True), "config.yaml")


def log_parameter_counts(model: keras.Model) -> pd.DataFrame:
    """Log parameter totals as metrics and the per-layer table as `parameters/layers.csv`."""
    mlflow.log_metrics({key: float(value) for key, value in parameter_summary(model).items()})
    table = layer_table(model)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "layers.csv"
        table.to_csv(path, index=False)
        mlflow.log_artifact(str(path), "parameters")
    mlflow.log_text(table.to_markdown(index=False), "parameters/layers.md")
    return table


def _log_figure(fig: Figure, artifact_file: str) -> None:
    mlflow.log_figure(fig, artifact_file)
    plt.close(fig)


def log_kernels(model: keras.Model, image_shape: tuple[int, int]) -> None:
    """Log every conv layer's kernels (PNG grid + raw `.npy`); for a model without
    convolutions, the first dense layer's weights as image-shaped templates."""
    convs = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    with tempfile.TemporaryDirectory() as tmp:
        for layer in convs:
            kernel = np.asarray(layer.kernel)
            np.save(Path(tmp) / f"{layer.name}.npy", kernel)
            mlflow.log_artifact(str(Path(tmp) / f"{layer.name}.npy"), "kernels")
            _log_figure(
                kernel_grid(kernel, title=f"{layer.name} kernels"), f"kernels/{layer.name}.png"
            )
        if convs:
            return
        dense = next(layer for layer in model.layers if isinstance(layer, keras.layers.Dense))
        weights = np.asarray(dense.kernel)
        np.save(Path(tmp) / f"{dense.name}.npy", weights)
        mlflow.log_artifact(str(Path(tmp) / f"{dense.name}.npy"), "kernels")
        fig = dense_templates(weights, image_shape=image_shape, title=f"{dense.name} templates")
        _log_figure(fig, f"kernels/{dense.name}_templates.png")


def log_feature_maps(model: keras.Model, image: np.ndarray) -> None:
    """Log the feature maps of `image` through every conv layer as PNGs."""
    for index, (name, fig) in enumerate(feature_maps(model, image)):
        _log_figure(fig, f"feature_maps/{index:02d}_{name}.png")


def log_keras_model(model: keras.Model, example: np.ndarray) -> str:
    """Log the model with MLflow's TensorFlow flavour (which takes Keras 3 models), with a
    signature and an input example; return its URI.

    Not `mlflow.keras.log_model`: in MLflow 3.17 it writes the input example before creating
    the model folder and fails.
    """
    signature = infer_signature(example, np.asarray(model.predict(example, verbose=0)))
    # MLflow checks the input example by predicting it through the logged model, with Keras'
    # default progress bar; that bar says nothing here and is redraw noise in a stage log.
    with contextlib.redirect_stdout(io.StringIO()):
        info = mlflow.tensorflow.log_model(
            model,
            name="model",
            signature=signature,
            input_example=example,
            # Pinning the requirements skips MLflow's slow import-capturing subprocess.
            pip_requirements=[f"keras=={keras.__version__}", f"tensorflow=={tf.__version__}"],
        )
    return info.model_uri
