"""Stacked conv without weight sharing: each convolution replaced by a locally connected
layer, with the same kernel size, strides, padding and channels, but its own kernel at every
output position. It separates what locality buys from what weight sharing buys.

Keras 3 dropped `LocallyConnected2D`, so the layer is written here on `keras.ops`
(`extract_patches` and one einsum). It is defined the first time it is asked for
(`convscope.models.locally_connected.LocallyConnected2D`), because validating a config
must not load TensorFlow; `convscope.models.trained.load_trained_model` asks for it by the
name the `.keras` file records.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

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
_LAYER_CLASS = "LocallyConnected2D"


@dataclass
class LocallyConnectedConfig(ModelConfig):
    """`INPUT => 3x [LOCAL => ACT => (POOL)] => FC(dense_units) => FC(num_classes)`."""

    filters: list[int] = MISSING
    kernel_size: int = MISSING
    padding: str = MISSING
    strides: int = MISSING
    pool: str = MISSING
    activation: str = MISSING
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
        """`3x [localN (activation fused) => (poolN)] => flatten => (dropout) => fc1 =>
        (dropout) => output`. Raises `ConvscopeError` when kernel size, strides, padding and
        pooling shrink the image to nothing."""
        import keras  # here, not at the top: validating a config must not load TensorFlow

        self._check_feature_map_sizes(input_shape[:2])
        layer_class = locally_connected_2d()
        pool_layers = {"max": keras.layers.MaxPooling2D, "average": keras.layers.AveragePooling2D}
        inputs = keras.Input(shape=input_shape, name="image")
        x = keras.layers.Rescaling(1.0 / 255, name="rescale")(inputs)
        for block, filters in enumerate(self.filters, start=1):
            x = layer_class(
                filters,
                self.kernel_size,
                strides=self.strides,
                padding=self.padding,
                activation=self.activation,
                name=f"local{block}",
            )(x)
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
            height, width = (
                output_length(n, self.kernel_size, self.strides, self.padding)
                for n in (height, width)
            )
            if self.pool != "none":
                height, width = height // _POOL_SIZE, width // _POOL_SIZE
            if height < 1 or width < 1:
                raise ConvscopeError(
                    f"model: kernel_size={self.kernel_size}, strides={self.strides}, "
                    f"padding={self.padding}, pool={self.pool} shrink the {size[0]}x{size[1]} "
                    f"input to nothing in block {block}"
                )


def output_length(length: int, kernel: int, stride: int, padding: str) -> int:
    """Output length of one spatial axis of a window slid like a convolution (Keras' rule)."""
    if padding == "valid":
        length -= kernel - 1
    return max(0, -(-length // stride))


def __getattr__(name: str) -> Any:
    """`LocallyConnected2D`, defined (and registered with Keras) on first use."""
    if name == _LAYER_CLASS:
        return locally_connected_2d()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@functools.cache
def locally_connected_2d() -> type[keras.layers.Layer]:
    """The `LocallyConnected2D` Keras layer class, registered for `model.keras` files."""
    import keras
    import numpy as np

    @keras.saving.register_keras_serializable(package="convscope", name=_LAYER_CLASS)
    class LocallyConnected2D(keras.layers.Layer):
        """A 2-D convolution whose kernel is not shared: each output position has its own.

        Weights: `kernel` of shape (out_h * out_w, kh * kw * in_channels, filters), in the
        order of `keras.ops.image.extract_patches` (rows, then columns, then channels, as a
        `Conv2D` kernel reshaped), and `bias` of shape (out_h * out_w, filters).
        """

        def __init__(
            self,
            filters: int,
            kernel_size: int | tuple[int, int],
            strides: int | tuple[int, int] = 1,
            padding: str = "valid",
            activation: str | None = None,
            **kwargs: Any,
        ) -> None:
            super().__init__(**kwargs)
            self.filters = filters
            self.kernel_size = _pair(kernel_size)
            self.strides = _pair(strides)
            self.padding = padding
            self.activation = keras.activations.get(activation)

        def build(self, input_shape: tuple[int | None, ...]) -> None:
            out_h, out_w = self._output_size(input_shape)
            fan_in = self.kernel_size[0] * self.kernel_size[1] * input_shape[-1]
            # Glorot uniform with Conv2D's fans (Keras' own would count the positions axis in).
            fan_out = self.kernel_size[0] * self.kernel_size[1] * self.filters
            limit = math.sqrt(6.0 / (fan_in + fan_out))
            positions = out_h * out_w
            self._grid = (out_h, out_w, input_shape[-1])
            self.kernel = self.add_weight(
                name="kernel",
                shape=(positions, fan_in, self.filters),
                initializer=keras.initializers.RandomUniform(-limit, limit),
            )
            self.bias = self.add_weight(
                name="bias", shape=(positions, self.filters), initializer="zeros"
            )

        def call(self, inputs: Any) -> Any:
            patches = keras.ops.image.extract_patches(
                inputs, self.kernel_size, strides=self.strides, padding=self.padding
            )
            _, out_h, out_w, fan_in = patches.shape
            flat = keras.ops.reshape(patches, (-1, out_h * out_w, fan_in))
            outputs = keras.ops.einsum("bpi,pif->bpf", flat, self.kernel) + self.bias
            return self.activation(keras.ops.reshape(outputs, (-1, out_h, out_w, self.filters)))

        def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple:
            return (input_shape[0], *self._output_size(input_shape), self.filters)

        def position_kernels(self) -> np.ndarray:
            """The kernel at each output position: (out_h, out_w, kh, kw, in_channels,
            filters), the layout of `convscope.models.windowed.PositionKernels`."""
            out_h, out_w, in_channels = self._grid
            return np.asarray(self.kernel).reshape(
                out_h, out_w, *self.kernel_size, in_channels, self.filters
            )

        def get_config(self) -> dict[str, Any]:
            return {
                **super().get_config(),
                "filters": self.filters,
                "kernel_size": self.kernel_size,
                "strides": self.strides,
                "padding": self.padding,
                "activation": keras.activations.serialize(self.activation),
            }

        def _output_size(self, input_shape: tuple[int | None, ...]) -> tuple[int, int]:
            height, width = input_shape[-3], input_shape[-2]
            return (
                output_length(height, self.kernel_size[0], self.strides[0], self.padding),
                output_length(width, self.kernel_size[1], self.strides[1], self.padding),
            )

    return LocallyConnected2D


def _pair(value: int | tuple[int, int] | list[int]) -> tuple[int, int]:
    """3 -> (3, 3); (3, 5) and [3, 5] (from a saved config) -> (3, 5)."""
    if isinstance(value, int):
        return (value, value)
    first, second = value
    return (int(first), int(second))
