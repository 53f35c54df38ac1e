"""What every model config shares: the base class and the checks its fields use.

A model is one module of `convscope.models`: a dataclass extending `ModelConfig` (the
schema of its YAML: types and value checks, no values) whose `build` makes the Keras model.
Its YAML in `conf/model/` names that class as `_target_`; the stage merges the YAML onto
the class (`convscope.config.stage_config`), so nothing central lists the models.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import TYPE_CHECKING

from omegaconf import MISSING

from convscope.errors import ConvscopeError

if TYPE_CHECKING:
    import keras

ACTIVATIONS = ("relu", "tanh", "sigmoid", "elu", "selu", "gelu", "silu")
PADDINGS = ("same", "valid")
POOLINGS = ("max", "average")


@dataclass
class ModelConfig(abc.ABC):
    """Keys every model config has: its `name` (the YAML's name, and its output folder)."""

    name: str = MISSING

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise ConvscopeError("model.name: expected a non-empty name, got ''")

    @abc.abstractmethod
    def build(self, input_shape: tuple[int, int, int], num_classes: int) -> keras.Model:
        """The uncompiled model: raw 0..255 float32 images of `input_shape` (height, width,
        channels) in, which it rescales itself, a softmax over `num_classes` out."""


def check_positive(key: str, value: int) -> None:
    """Raise `ConvscopeError` naming `model.<key>` unless `value` is an integer >= 1."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConvscopeError(f"model.{key}: expected a positive integer, got {value}")


def check_choice(key: str, value: str, choices: tuple[str, ...]) -> None:
    """Raise `ConvscopeError` naming `model.<key>` unless `value` is one of `choices`."""
    if value not in choices:
        raise ConvscopeError(f"model.{key}: expected one of {', '.join(choices)}, got {value!r}")


def check_rate(key: str, value: float) -> None:
    """Raise `ConvscopeError` naming `model.<key>` unless `value` is a rate in [0, 1)."""
    if not 0.0 <= value < 1.0:
        raise ConvscopeError(f"model.{key}: expected a rate in [0, 1), got {value}")
