"""A trained Keras model loaded from its `.keras` file, and its first layer's weights."""

from __future__ import annotations

import importlib
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import keras
import numpy as np

from convscope.errors import ConvscopeError, first_line
from convscope.models.model_file import check_model_file
from convscope.models.windowed import PositionKernels
from convscope.records.seeds import train_hint


def load_trained_model(path: Path) -> keras.Model:
    """Load a `.keras` file; a missing, truncated or foreign file is a one-line error."""
    check_model_file(path)
    try:
        return keras.models.load_model(path, compile=False, custom_objects=project_classes(path))
    except Exception as err:  # Keras raises many types for a damaged archive's contents
        raise ConvscopeError(
            f"{path}: Keras cannot load this model ({first_line(err)}); {train_hint(path)}"
        ) from None


def project_classes(path: Path) -> dict[str, type]:
    """The classes of this project that a `.keras` file names (a model's own layer, such as
    `convscope.models.locally_connected`'s), by their registered name, for `load_model`.

    Keras imports the modules of its own classes only; these are imported here from the module
    the file records, so a generic loader needs no list of the models that have layers."""
    with zipfile.ZipFile(path) as archive:
        config = json.loads(archive.read("config.json"))
    return {
        registered: getattr(importlib.import_module(module), class_name)
        for module, class_name, registered in _named_classes(config["config"])
        if module.startswith("convscope.")
    }


def _named_classes(config: Any) -> Iterator[tuple[str, str, str]]:
    """(module, class name, registered name) of every custom object in a Keras config."""
    if isinstance(config, dict):
        if isinstance(config.get("registered_name"), str) and "module" in config:
            yield config["module"], config["class_name"], config["registered_name"]
        for value in config.values():
            yield from _named_classes(value)
    elif isinstance(config, list):
        for item in config:
            yield from _named_classes(item)


def first_layer_weights(model: keras.Model) -> np.ndarray:
    """The kernel of the first Conv2D or Dense layer: (kh, kw, in_c, out_c) or (inputs, units).

    A first locally connected layer (`PositionKernels`) gives its kernel at the centre output
    position, in the conv layout (kh, kw, in_c, out_c)."""
    for layer in model.layers:
        if isinstance(layer, PositionKernels):
            kernels = layer.position_kernels()
            return kernels[kernels.shape[0] // 2, kernels.shape[1] // 2]
        if isinstance(layer, keras.layers.Conv2D | keras.layers.Dense):
            return np.asarray(layer.kernel)
    raise ConvscopeError(f"model {model.name!r} has no Conv2D or Dense layer")
