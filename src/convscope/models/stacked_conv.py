"""A small modern convnet: three convolution blocks, then two fully connected layers."""

from __future__ import annotations

import keras

from convscope.errors import ConvscopeError
from convscope.models.config import StackedConvConfig

_POOL_LAYERS = {"max": keras.layers.MaxPooling2D, "average": keras.layers.AveragePooling2D}
_POOL_SIZE = 2


def build_stacked_conv(
    cfg: StackedConvConfig, input_shape: tuple[int, int, int], num_classes: int
) -> keras.Model:
    """`3x [convN => (bnN) => actN => (poolN)] => flatten => (dropout) => fc1 => (dropout)
    => output`.

    With `batch_norm`, each convolution has no bias (BatchNorm's beta replaces it) and the
    activation follows the normalisation. Raises `ConvscopeError` when kernel size, strides,
    padding and pooling shrink the image to nothing.
    """
    _check_feature_map_sizes(cfg, input_shape[:2])
    inputs = keras.Input(shape=input_shape, name="image")
    x = keras.layers.Rescaling(1.0 / 255, name="rescale")(inputs)
    for block, filters in enumerate(cfg.filters, start=1):
        x = keras.layers.Conv2D(
            filters,
            cfg.kernel_size,
            strides=cfg.strides,
            padding=cfg.padding,
            use_bias=not cfg.batch_norm,
            activation=None if cfg.batch_norm else cfg.activation,
            name=f"conv{block}",
        )(x)
        if cfg.batch_norm:
            x = keras.layers.BatchNormalization(name=f"bn{block}")(x)
            x = keras.layers.Activation(cfg.activation, name=f"act{block}")(x)
        if cfg.pool != "none":
            x = _POOL_LAYERS[cfg.pool](pool_size=_POOL_SIZE, name=f"pool{block}")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    if cfg.dropout > 0:
        x = keras.layers.Dropout(cfg.dropout, name="dropout1")(x)
    x = keras.layers.Dense(cfg.dense_units, activation=cfg.activation, name="fc1")(x)
    if cfg.dropout > 0:
        x = keras.layers.Dropout(cfg.dropout, name="dropout2")(x)
    outputs = keras.layers.Dense(num_classes, activation="softmax", name="output")(x)
    return keras.Model(inputs, outputs, name=cfg.name)


def _check_feature_map_sizes(cfg: StackedConvConfig, size: tuple[int, int]) -> None:
    """Follow the feature-map height/width through the blocks; fail once one reaches 0."""
    height, width = size
    for block in range(1, len(cfg.filters) + 1):
        height, width = (_conv_length(n, cfg) for n in (height, width))
        if cfg.pool != "none":
            height, width = height // _POOL_SIZE, width // _POOL_SIZE
        if height < 1 or width < 1:
            raise ConvscopeError(
                f"model: kernel_size={cfg.kernel_size}, strides={cfg.strides}, "
                f"padding={cfg.padding}, pool={cfg.pool} shrink the {size[0]}x{size[1]} "
                f"input to nothing in conv block {block}"
            )


def _conv_length(length: int, cfg: StackedConvConfig) -> int:
    """Output length of one spatial axis of a convolution (Keras' formula)."""
    if cfg.padding == "valid":
        length -= cfg.kernel_size - 1
    return max(0, -(-length // cfg.strides))
