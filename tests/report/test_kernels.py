"""Kernel grids, dense templates and feature maps on small real models."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from convscope.errors import ConvscopeError
from convscope.models.lenet5 import LeNet5Config
from convscope.report.kernels import dense_templates, feature_maps, kernel_grid


def test_kernel_grid_single_input_has_one_labelled_tile_per_output_map(mosaic):
    kernel = np.random.default_rng(0).normal(size=(3, 3, 1, 8))
    kernel[1, 1, 0, 5] = -7.0  # the largest magnitude is negative

    figure = kernel_grid(kernel, "conv_a kernels")

    axes, image, tiles = mosaic(figure)
    assert tiles == 8
    assert [text.get_text() for text in axes.texts] == [f"#{j}" for j in range(8)]
    assert image.get_clim() == (-7.0, 7.0)  # symmetric about 0, one scale for all tiles
    assert len(figure.axes) == 2  # the mosaic and its colour bar
    title = figure.get_suptitle()
    assert "conv_a kernels" in title and "3x3 kernels" in title and "all 8 output maps" in title


def test_kernel_grid_several_inputs_is_a_table_capped_at_max_inputs(mosaic):
    kernel = np.random.default_rng(1).normal(size=(5, 5, 20, 6))

    figure = kernel_grid(kernel, "conv_b kernels", max_inputs=16)

    axes, image, tiles = mosaic(figure)
    assert tiles == 16 * 6
    assert [label.get_text() for label in axes.get_xticklabels()] == [str(j) for j in range(6)]
    assert len(axes.get_yticks()) == 16
    limit = np.abs(kernel[:, :, :16, :]).max()
    assert image.get_clim() == pytest.approx((-limit, limit))
    # Row 1, column 2 of the table is input channel 1's slice of output map 2.
    step_y, step_x = 5 + 1, 5 + 1
    cell = image.get_array()[step_y : step_y + 5, 2 * step_x : 2 * step_x + 5]
    np.testing.assert_allclose(cell, kernel[:, :, 1, 2])
    assert "first 16 of 20 input channels" in figure.get_suptitle()


def test_kernel_grid_caps_output_maps_and_says_so(mosaic):
    figure = kernel_grid(np.ones((3, 3, 1, 70)), "wide", max_outputs=64)
    assert mosaic(figure)[2] == 64
    assert "first 64 of 70 output maps" in figure.get_suptitle()


def test_kernel_grid_rejects_a_matrix():
    with pytest.raises(ConvscopeError, match=r"\(kh, kw, in_c, out_c\).*\(784, 10\)"):
        kernel_grid(np.zeros((784, 10)), "dense")


def test_dense_templates_reshape_each_unit_to_the_image(mosaic):
    weights = np.random.default_rng(2).normal(size=(784, 100))

    figure = dense_templates(weights, max_units=64)

    axes, image, tiles = mosaic(figure)
    assert tiles == 64
    assert axes.texts[0].get_text() == "unit 0" and axes.texts[-1].get_text() == "unit 63"
    limit = np.abs(weights[:, :64]).max()
    assert image.get_clim() == pytest.approx((-limit, limit))
    canvas = image.get_array()
    band = int(np.argmax(~np.isnan(canvas[:, 0])))  # first drawn row = top of tile 0
    np.testing.assert_allclose(canvas[band : band + 28, :28], weights[:, 0].reshape(28, 28))
    assert "first 64 of 100 units, 784 weights each" in figure.get_suptitle()


def test_dense_templates_rejects_weights_that_are_not_one_per_pixel():
    with pytest.raises(ConvscopeError, match=r"\(784, units\).*\(100, 10\)"):
        dense_templates(np.zeros((100, 10)))


def test_feature_maps_sequential_one_figure_per_conv_layer(sequential_model, digit, mosaic):
    figures = feature_maps(sequential_model, digit)

    assert [name for name, _ in figures] == ["conv_a", "conv_b"]
    first, second = (figure for _, figure in figures)
    assert "conv_a: output shape 26x26x4, after relu" in first.get_suptitle()
    assert "conv_b: output shape 11x11x6" in second.get_suptitle()
    assert "activation not fused" in second.get_suptitle()
    assert mosaic(first)[2] == 4 and mosaic(second)[2] == 6
    input_axes = first.axes[0]
    assert input_axes.get_title() == "input"
    np.testing.assert_array_equal(input_axes.images[0].get_array(), digit)

    # Tile #0 is conv_a's first channel, computed here layer by layer.
    rescale, conv_a = sequential_model.layers[0], sequential_model.layers[1]
    expected = keras.ops.convert_to_numpy(conv_a(rescale(digit[None, :, :, None] * 1.0)))[0]
    _, image, _ = mosaic(first)
    canvas = image.get_array()
    band = int(np.argmax(~np.isnan(canvas[:, 0])))  # first drawn row = top of tile #0
    np.testing.assert_allclose(canvas[band : band + 26, :26], expected[:, :, 0], atol=1e-5)
    assert image.get_clim()[0] == 0.0  # ReLU output: a scale from 0, not a +- one


def test_feature_maps_accepts_an_image_with_or_without_its_channel_axis(sequential_model, digit):
    without = feature_maps(sequential_model, digit)[0][1]
    with_axis = feature_maps(sequential_model, digit[..., None])[0][1]
    np.testing.assert_array_equal(
        without.axes[1].images[0].get_array(), with_axis.axes[1].images[0].get_array()
    )


def test_feature_maps_functional_model_with_signed_activations(functional_model, digit, mosaic):
    figures = feature_maps(functional_model, digit)

    assert [name for name, _ in figures] == ["func_conv"]
    figure = figures[0][1]
    assert "func_conv: output shape 24x24x3, after tanh" in figure.get_suptitle()
    _, image, tiles = mosaic(figure)
    assert tiles == 3
    low, high = image.get_clim()
    assert low == -high  # tanh can be negative: diverging scale centred at 0


def test_feature_maps_of_a_model_without_convolutions_is_empty(digit):
    dense = keras.Sequential(
        [keras.Input((28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(3)]
    )
    assert feature_maps(dense, digit) == []


def test_feature_maps_rejects_an_image_of_the_wrong_shape(sequential_model):
    with pytest.raises(ConvscopeError, match=r"\(32, 32, 1\).*\(28, 28, 1\)"):
        feature_maps(sequential_model, np.zeros((32, 32)))


def test_feature_maps_rejects_a_model_without_inputs(digit):
    unbuilt = keras.Sequential([keras.layers.Conv2D(2, 3), keras.layers.Flatten()])
    with pytest.raises(ConvscopeError, match="no defined inputs"):
        feature_maps(unbuilt, digit)


def test_feature_maps_of_lenet5_cover_all_three_conv_layers(digit, mosaic):
    keras.utils.set_random_seed(0)
    lenet5 = LeNet5Config(name="lenet5", activation="relu", pooling="max").build((28, 28, 1), 10)

    figures = feature_maps(lenet5, digit)

    assert [name for name, _ in figures] == ["C1", "C3", "C5"]
    shapes = ["28x28x6", "10x10x16", "1x1x120"]
    for (name, figure), shape in zip(figures, shapes, strict=True):
        assert f"{name}: output shape {shape}, after relu" in figure.get_suptitle()
    assert [mosaic(figure)[2] for _, figure in figures] == [6, 16, 64]  # C5 capped at max_maps
