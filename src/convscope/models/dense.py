"""The dense baseline: every hidden unit sees every pixel."""

from __future__ import annotations

import keras

from convscope.models.config import DenseConfig


def build_dense(
    cfg: DenseConfig, input_shape: tuple[int, int, int], num_classes: int
) -> keras.Model:
    """`Rescaling(1/255) => Flatten => FC(units) => [Dropout] => FC(num_classes, softmax)`."""
    inputs = keras.Input(shape=input_shape, name="image")
    x = keras.layers.Rescaling(1.0 / 255, name="rescale")(inputs)
    x = keras.layers.Flatten(name="flatten")(x)
    x = keras.layers.Dense(cfg.units, activation=cfg.activation, name="fc1")(x)
    if cfg.dropout > 0:
        x = keras.layers.Dropout(cfg.dropout, name="dropout")(x)
    outputs = keras.layers.Dense(num_classes, activation="softmax", name="output")(x)
    return keras.Model(inputs, outputs, name=cfg.name)
