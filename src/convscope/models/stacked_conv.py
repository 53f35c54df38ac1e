"""A small modern convnet: three convolution blocks, then two fully connected layers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from omegaconf import MISSING

from convscope.errors import ConvscopeError
from convscope.models.config import (
    ACTIVATIONS,
    PADDINGS,
    POOLINGS,
    ModelConfig,
    check_choice,
    check_positive,
    check_rate,
)

if TYPE_CHECKING:
    import keras

_POOL_SIZE = 2


@dataclass
class StackedConvConfig(ModelConfig):
    """`INPUT => 3x [CONV => (BN) => ACT => (POOL)] => FC(dense_units) => FC(num_classes)`."""

    filters: list[int] = MISSING
    kernel_size: int = MISSING
    padding: str = MISSING
    strides: int = MISSING
    pool: str = MISSING
    activation: str = MISSING
    batch_norm: bool = MISSING
    dropout: float = MISSING
    dense_units: int = MISSING

    def __post_init__(self) -> None:
        super().__post_init__()
        if len(self.filters) != 3:
            raise ConvscopeError(
                f"model.filters: expected a list of 3 positive integers, got {self.filters}"
            )
        for index, count in enumerate(self.filters):
            check_positive(f"filters[{index}]", count)
        check_positive("kernel_size", self.kernel_size)
        if self.kernel_size % 2 == 0:
            raise ConvscopeError(
                f"model.kernel_size: expected an odd integer, got {self.kernel_size}"
            )
        check_choice("padding", self.padding, PADDINGS)
        check_positive("strides", self.strides)
        check_choice("pool", self.pool, ("none", *POOLINGS))
        check_choice("activation", self.activation, ACTIVATIONS)
        check_rate("dropout", self.dropout)
        check_positive("dense_units", self.dense_units)

    def build(self, input_shape: tuple[int, int, int], num_classes: int) -> keras.Model:
        """`3x [convN => (bnN) => actN => (poolN)] => flatten => (dropout) => fc1 => (dropout)
        => output`.

        With `batch_norm`, each convolution has no bias (BatchNorm's beta replaces it) and the
        activation follows the normalisation. Raises `ConvscopeError` when kernel size,
        strides, padding and pooling shrink the image to nothing.
        """
        import keras  # here, not at the top: validating a config must not load TensorFlow

        self._check_feature_map_sizes(input_shape[:2])
        pool_layers = {"max": keras.layers.MaxPooling2D, "average": keras.layers.AveragePooling2D}
        inputs = keras.Input(shape=input_shape, name="image")
        x = keras.layers.Rescaling(1.0 / 255, name="rescale")(inputs)
        for block, filters in enumerate(self.filters, start=1):
            x = keras.layers.Conv2D(
                filters,
                self.kernel_size,
                strides=self.strides,
                padding=self.padding,
                use_bias=not self.batch_norm,
                activation=None if self.batch_norm else self.activation,
                name=f"conv{block}",
            )(x)
            if self.batch_norm:
                x = keras.layers.BatchNormalization(name=f"bn{block}")(x)
                x = keras.layers.Activation(self.activation, name=f"act{block}")(x)
            if self.pool != "none":
                x = pool_layers[self.pool](pool_size=_POOL_SIZE, name=f"pool{block}")(x)
        x = keras.layers.Flatten(name="flatten")(x)
        if self.dropout > 0:
            x = keras.layers.Dropout(self.dropout, name="dropout1")(x)
        x = keras.layers.Dense(self.dense_units, activation=self.activation, name="fc1")(x)
        if self.dropout > 0:
            x = keras.layers.Dropout(self.dropout, name="dropout2")(x)
        outputs = keras.layers.Dense(num_classes, activation="softmax", name="output")(x)
        return keras.Model(inputs, outputs, name=self.name)

    def _check_feature_map_sizes(self, size: tuple[int, int]) -> None:
        """Follow the feature-map height/width through the blocks; fail once one reaches 0."""
        height, width = size
        for block in range(1, len(self.filters) + 1):
            height, width = (self._conv_length(n) for n in (height, width))
            if self.pool != "none":
                height, width = height // _POOL_SIZE, width // _POOL_SIZE
            if height < 1 or width < 1:
                raise ConvscopeError(
                    f"model: kernel_size={self.kernel_size}, strides={self.strides}, "
                    f"padding={self.padding}, pool={self.pool} shrink the {size[0]}x{size[1]} "
                    f"input to nothing in conv block {block}"
                )

    def _conv_length(self, length: int) -> int:
        """Output length of one spatial axis of a convolution (Keras' formula)."""
        if self.padding == "valid":
            length -= self.kernel_size - 1
        return max(0, -(-length // self.strides))
