"""What a training run logs to MLflow beyond per-epoch metrics: the comparison's evidence.

All functions log into the active MLflow run. The pictures are drawn by the caller
(`convscope.report.kernels`); this module only logs them.
"""

from __future__ import annotations

import contextlib
import io
import tempfile
from collections.abc import Mapping, Sequence
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
from omegaconf import OmegaConf

from convscope.models.layers import layer_table, parameter_summary
from convscope.tracking.params import flatten, param_value


def flatten_config(config: Mapping[str, Any]) -> dict[str, str]:
    """A run's config (nested plain values) as `{"model.filters": "[32, 64, 64]", ...}`,
    ready for log_params."""
    return {key: param_value(value) for key, value in flatten(dict(config)).items()}


def log_config(config: Mapping[str, Any]) -> None:
    """Log a run's config (nested plain values) flattened as params and whole as
    `config.yaml`."""
    mlflow.log_params(flatten_config(config))
    mlflow.log_text(OmegaConf.to_yaml(dict(config)), "config.yaml")


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


def log_kernels(weights: Mapping[str, np.ndarray], figures: Mapping[str, Figure]) -> None:
    """Log first-layer weights as `kernels/<layer>.npy` and their pictures as
    `kernels/<file name>` (see `convscope.report.kernels.kernel_pictures`)."""
    with tempfile.TemporaryDirectory() as tmp:
        for layer, array in weights.items():
            np.save(Path(tmp) / f"{layer}.npy", array)
            mlflow.log_artifact(str(Path(tmp) / f"{layer}.npy"), "kernels")
    for name, fig in figures.items():
        _log_figure(fig, f"kernels/{name}")


def log_feature_maps(figures: Sequence[tuple[str, Figure]]) -> None:
    """Log `(layer name, figure)` pictures of feature maps as numbered PNGs, in order."""
    for index, (name, fig) in enumerate(figures):
        _log_figure(fig, f"feature_maps/{index:02d}_{name}.png")


def log_keras_model(model: keras.Model, example: np.ndarray) -> str:
    """Log the model with MLflow's TensorFlow flavour (which takes Keras 3 models), with a
    signature and an input example; return its URI.

    Not `mlflow.keras.log_model`: in MLflow 3.17 it writes the input example before creating
    the model folder and fails.
    """
    # The model called directly, not `model.predict`: predict traces a new graph for every
    # model, and a process training several seeds then gets TensorFlow's "triggered
    # tf.function retracing" warning (on the third seed, with MLflow's check below).
    output = keras.ops.convert_to_numpy(model(example, training=False))
    signature = infer_signature(example, output)
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
