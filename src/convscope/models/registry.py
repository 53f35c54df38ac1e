"""Builder key (a model config's `builder`) -> function that builds the Keras model."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras
from omegaconf import DictConfig

from convscope.models.config import ModelConfig, validate_model_config
from convscope.models.dense import build_dense
from convscope.models.lenet5 import build_lenet5
from convscope.models.stacked_conv import build_stacked_conv

Builder = Callable[[Any, tuple[int, int, int], int], keras.Model]

BUILDERS: dict[str, Builder] = {
    "dense": build_dense,
    "lenet5": build_lenet5,
    "stacked_conv": build_stacked_conv,
}


def build_model(
    model_cfg: ModelConfig | DictConfig | dict[str, Any],
    input_shape: tuple[int, int, int],
    num_classes: int,
) -> keras.Model:
    """Validate `model_cfg` (unless already a dataclass) and build its uncompiled model.

    `input_shape` is (height, width, channels) of raw 0..255 float32 images; the model
    rescales them itself and ends in a softmax over `num_classes`.
    """
    config = model_cfg if isinstance(model_cfg, ModelConfig) else validate_model_config(model_cfg)
    return BUILDERS[config.builder](config, tuple(input_shape), num_classes)
