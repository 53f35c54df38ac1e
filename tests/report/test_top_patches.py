"""Effective receptive fields and top-activating patches, on models whose answers are known."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from support import box_convs

from convscope.errors import ConvscopeError
from convscope.report.top_patches import top_patches, top_patches_figure

MNIST_SHAPE = (28, 28, 1)


def test_top_patches_pick_the_brightest_pixels() -> None:
    # A 3x3 kernel that copies the centre pixel: each image's activation is its brightest pixel.
    inputs = keras.Input((8, 8, 1))
    kernel = np.zeros((3, 3, 1, 1), dtype="float32")
    kernel[1, 1] = 1.0
    conv = keras.layers.Conv2D(1, 3, padding="same", use_bias=False, name="copy")
    model = keras.Model(inputs, conv(inputs))
    conv.set_weights([kernel])
    images = np.zeros((5, 8, 8, 1), dtype="float32")
    spots = [(3, 4, 50.0), (0, 0, 200.0), (7, 2, 120.0), (5, 5, 90.0), (2, 7, 10.0)]
    for image, (row, col, value) in enumerate(spots):
        images[image, row, col] = value
    (result,) = top_patches(model, images, per_channel=3, batch_size=2)

    assert result.layer == "copy" and result.patches.shape == (1, 3, 3, 3)
    assert result.images[0].tolist() == [1, 2, 3]  # 200, 120, 90
    np.testing.assert_array_equal(result.activations[0], [200.0, 120.0, 90.0])
    for patch, value in zip(result.patches[0], [200.0, 120.0, 90.0], strict=True):
        assert patch[1, 1] == value and patch.sum() == value  # centred on the bright pixel
    # the corner pixel's field reaches past the image: zero filled
    assert result.patches[0, 0].shape == (3, 3)

    figure = top_patches_figure(result, title="copy layer")
    assert "3x3 receptive field" in figure._suptitle.get_text()


def test_top_patches_refuses_more_patches_than_images() -> None:
    with pytest.raises(ConvscopeError, match="at most the 4 images"):
        top_patches(box_convs(1), np.zeros((4, 9, 9, 1), dtype="float32"), per_channel=5)
