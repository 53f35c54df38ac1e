"""A trained Keras model loaded from its `.keras` file, and its first layer's weights."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np

from convscope.errors import ConvscopeError, first_line
from convscope.models.model_file import check_model_file
from convscope.records.seeds import train_hint


def load_trained_model(path: Path) -> keras.Model:
    """Load a `.keras` file; a missing, truncated or foreign file is a one-line error."""
    check_model_file(path)
    try:
        return keras.models.load_model(path, compile=False)
    except Exception as err:  # Keras raises many types for a damaged archive's contents
        raise ConvscopeError(
            f"{path}: Keras cannot load this model ({first_line(err)}); {train_hint(path)}"
        ) from None


def first_layer_weights(model: keras.Model) -> np.ndarray:
    """The kernel of the first Conv2D or Dense layer: (kh, kw, in_c, out_c) or (inputs, units)."""
    for layer in model.layers:
        if isinstance(layer, keras.layers.Conv2D | keras.layers.Dense):
            return np.asarray(layer.kernel)
    raise ConvscopeError(f"model {model.name!r} has no Conv2D or Dense layer")
