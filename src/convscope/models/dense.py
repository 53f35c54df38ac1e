"""The dense baseline: every hidden unit sees every pixel."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from omegaconf import MISSING

from convscope.models.config import (
    ACTIVATIONS,
    ModelConfig,
    check_choice,
    check_positive,
    check_rate,
)

if TYPE_CHECKING:
    import keras


@dataclass
class DenseConfig(ModelConfig):
    """`Flatten => FC(units, activation) => [Dropout] => FC(num_classes, softmax)`."""

    units: int = MISSING
    activation: str = MISSING
    dropout: float = MISSING

    def __post_init__(self) -> None:
        super().__post_init__()
        check_positive("units", self.units)
        check_choice("activation", self.activation, ACTIVATIONS)
        check_rate("dropout", self.dropout)

    def build(self, input_shape: tuple[int, int, int], num_classes: int) -> keras.Model:
        """`Rescaling(1/255) => Flatten => FC(units) => [Dropout] => FC(num_classes, softmax)`."""
        import keras  # here, not at the top: validating a config must not load TensorFlow

        inputs = keras.Input(shape=input_shape, name="image")
        x = keras.layers.Rescaling(1.0 / 255, name="rescale")(inputs)
        x = keras.layers.Flatten(name="flatten")(x)
        x = keras.layers.Dense(self.units, activation=self.activation, name="fc1")(x)
        if self.dropout > 0:
            x = keras.layers.Dropout(self.dropout, name="dropout")(x)
        outputs = keras.layers.Dense(num_classes, activation="softmax", name="output")(x)
        return keras.Model(inputs, outputs, name=self.name)
