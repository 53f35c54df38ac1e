"""Small real Keras models and figure-inspection helpers for the report tests."""

from __future__ import annotations

from collections.abc import Callable

import keras
import numpy as np
import pytest
from matplotlib.axes import Axes
from matplotlib.figure import Figure, FigureBase
from matplotlib.image import AxesImage

from convscope.report.figures import OUTLINE_GID


@pytest.fixture(scope="session")
def sequential_model() -> keras.Model:
    """Raw pixels in; a fused-ReLU conv, pooling, a conv followed by a separate ReLU layer."""
    keras.utils.set_random_seed(0)
    return keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            keras.layers.Rescaling(1 / 255),
            keras.layers.Conv2D(4, 3, activation="relu", name="conv_a"),
            keras.layers.MaxPooling2D(),
            keras.layers.Conv2D(6, 3, name="conv_b"),
            keras.layers.ReLU(),
            keras.layers.Flatten(),
            keras.layers.Dense(10),
        ],
        name="tiny_sequential",
    )


@pytest.fixture(scope="session")
def functional_model() -> keras.Model:
    """A functional model whose only conv layer has a tanh activation."""
    keras.utils.set_random_seed(1)
    inputs = keras.Input((28, 28, 1))
    hidden = keras.layers.Rescaling(1 / 255)(inputs)
    hidden = keras.layers.Conv2D(3, 5, activation="tanh", name="func_conv")(hidden)
    hidden = keras.layers.Flatten()(hidden)
    outputs = keras.layers.Dense(10)(hidden)
    return keras.Model(inputs, outputs, name="tiny_functional")


@pytest.fixture(scope="session")
def digit() -> np.ndarray:
    """A 28x28 uint8 image of a bar-topped '7'-like stroke, as MNIST stores pixels."""
    image = np.zeros((28, 28), np.uint8)
    image[5:8, 6:22] = 255
    for row in range(8, 24):
        image[row, 20 - (row - 8) // 2 : 23 - (row - 8) // 2] = 230
    return image


@pytest.fixture
def mosaic() -> Callable[[Figure | FigureBase], tuple[Axes, AxesImage, int]]:
    """Find a figure's tile mosaic: (its axes, its image, how many tiles are outlined)."""

    def find(figure: Figure | FigureBase) -> tuple[Axes, AxesImage, int]:
        found = [
            (axes, collection)
            for axes in figure.axes
            for collection in axes.collections
            if collection.get_gid() == OUTLINE_GID
        ]
        assert len(found) == 1, f"expected one tile mosaic, found {len(found)}"
        axes, outlines = found[0]
        return axes, axes.images[0], len(outlines.get_paths())

    return find
