"""The locally connected model: its layer is Conv2D without weight sharing, counted by hand,
saved and loaded, shown in the anatomy table and kernel figures, and it trains."""

from __future__ import annotations

import math
from pathlib import Path

import keras
import numpy as np
import pytest

from convscope.errors import ConvscopeError
from convscope.models.anatomy import layer_anatomy
from convscope.models.layers import layer_table, parameter_summary
from convscope.models.locally_connected import LocallyConnected2D
from convscope.models.trained import first_layer_weights, load_trained_model
from convscope.models.windowed import PositionKernels
from convscope.report.kernels import feature_maps, kernel_pictures

MNIST_SHAPE = (28, 28, 1)


@pytest.mark.parametrize("padding", ["same", "valid"])
@pytest.mark.parametrize("strides", [1, 2])
def test_tied_kernels_give_conv2d_output(padding: str, strides: int) -> None:
    images = np.random.default_rng(0).normal(size=(3, 11, 10, 4)).astype("float32")
    conv = keras.layers.Conv2D(5, 3, strides=strides, padding=padding, activation="relu")
    local = LocallyConnected2D(5, 3, strides=strides, padding=padding, activation="relu")
    expected = keras.ops.convert_to_numpy(conv(images))
    local(images)  # builds the per-position weights
    positions = local.kernel.shape[0]
    local.kernel.assign(
        np.tile(np.asarray(conv.kernel).reshape(1, 3 * 3 * 4, 5), (positions, 1, 1))
    )
    local.bias.assign(np.tile(np.asarray(conv.bias)[np.newaxis], (positions, 1)))

    actual = keras.ops.convert_to_numpy(local(images))
    assert actual.shape == expected.shape
    np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=1e-5)


def test_untied_kernels_differ_from_conv2d() -> None:
    images = np.random.default_rng(1).normal(size=(2, 6, 6, 1)).astype("float32")
    local = LocallyConnected2D(2, 3, padding="same")
    output = keras.ops.convert_to_numpy(local(images))
    kernels = local.position_kernels()  # (6, 6, 3, 3, 1, 2)
    # Position (2, 3) applies its own kernel to the 3x3 patch around pixel (2, 3).
    patch = images[0, 1:4, 2:5, :]
    expected = np.einsum("hwc,hwcf->f", patch, kernels[2, 3])
    np.testing.assert_allclose(output[0, 2, 3], expected, rtol=1e-5, atol=1e-6)
    assert not np.allclose(kernels[0, 0], kernels[2, 3])  # drawn independently per position


def test_parameters_as_counted_by_hand(model_cfg) -> None:
    model = model_cfg("locally_connected").build(MNIST_SHAPE, 10)

    def local(size: int, k: int, c_in: int, c_out: int) -> int:
        """A kernel of k*k*c_in weights and a bias for each channel at each of size^2 positions."""
        return size * size * (k * k * c_in * c_out + c_out)

    # same padding keeps 28, 14, 7; 2x2 pooling after each block: 3*3*64 = 576 reach fc1
    expected = (
        local(28, 3, 1, 16)
        + local(14, 3, 16, 32)
        + local(7, 3, 32, 64)
        + (576 * 128 + 128)
        + (128 * 10 + 10)
    )
    assert expected == 125_440 + 909_440 + 906_304 + 73_856 + 1_290 == 2_016_330
    assert model.count_params() == expected
    assert isinstance(model.get_layer("local1"), PositionKernels)
    assert not isinstance(keras.layers.Conv2D(4, 3), PositionKernels)


def test_valid_padding_stride_2(model_cfg) -> None:
    model = model_cfg(
        "locally_connected", filters=[4, 8, 8], padding="valid", strides=2, pool="none"
    ).build(MNIST_SHAPE, 10)
    # 28 -> 13 -> 6 -> 2 (ceil((n - 2) / 2))
    assert [model.get_layer(f"local{i}").output.shape[1:] for i in (1, 2, 3)] == [
        (13, 13, 4),
        (6, 6, 8),
        (2, 2, 8),
    ]
    assert model.get_layer("local2").count_params() == 6 * 6 * (3 * 3 * 4 * 8 + 8)


def test_shrinking_the_image_to_nothing_is_refused(model_cfg) -> None:
    with pytest.raises(ConvscopeError, match="to nothing in block 2"):
        model_cfg("locally_connected", kernel_size=7, padding="valid", strides=2).build(
            MNIST_SHAPE, 10
        )


def test_save_and_load_round_trip(model_cfg, tmp_path: Path) -> None:
    keras.utils.set_random_seed(3)
    model = model_cfg("locally_connected", filters=[2, 3, 4], dense_units=8).build(MNIST_SHAPE, 10)
    images = np.random.default_rng(2).uniform(0, 255, size=(4, *MNIST_SHAPE)).astype("float32")
    path = tmp_path / "model.keras"
    model.save(path)

    loaded = load_trained_model(path)  # the project's loader finds the layer by its module
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(loaded(images)), keras.ops.convert_to_numpy(model(images))
    )
    assert type(loaded.get_layer("local2")).__name__ == "LocallyConnected2D"
    assert loaded.get_layer("local2").get_config()["kernel_size"] == (3, 3)


def test_anatomy_and_layer_tables(model_cfg) -> None:
    model = model_cfg("locally_connected").build(MNIST_SHAPE, 10)
    anatomy = layer_anatomy(model).set_index("layer")
    local1, local2 = anatomy.loc["local1"], anatomy.loc["local2"]
    # One 3x3x1 kernel per filter at each of the 28x28 positions: 784 * 16 = 12,544 kernels
    assert (local1.kernel, local1.kernels, local1.weights_per_kernel) == ("3x3x1", 12_544, 9)
    assert local1.weights == 12_544 * 9 == math.prod(model.get_layer("local1").kernel.shape)
    assert local1.other_padding_output_shape == "26x26x16"
    # as stacked conv's: r += (k - 1) * jump; jump *= stride (3x3 windows, 2x2/2 pools)
    assert anatomy["receptive_field"].to_dict() == {
        "local1": "3x3",
        "pool1": "4x4",
        "local2": "8x8",
        "pool2": "10x10",
        "local3": "18x18",
        "pool3": "22x22",
        "fc1": "28x28",
        "output": "28x28",
    }
    assert (local2.kernels, local2.weights) == (14 * 14 * 32, 14 * 14 * 32 * 144)

    table = layer_table(model).set_index("layer")
    assert table.loc["local1", "fan_in"] == 9
    assert table.loc["local1", "macs"] == 28 * 28 * 16 * 9  # each position's kernel once
    summary = parameter_summary(model)
    assert summary["local_layers"] == 3
    assert summary["conv_layers"] == 0
    assert summary["local_params"] == 125_440 + 909_440 + 906_304
    assert summary["total_params"] == model.count_params()


def test_kernel_figures_and_first_layer(model_cfg) -> None:
    model = model_cfg("locally_connected", filters=[4, 4, 4]).build(MNIST_SHAPE, 10)
    weights, figures = kernel_pictures(model, (28, 28))
    assert weights["local1"].shape == (28, 28, 3, 3, 1, 4)
    assert sorted(figures) == ["local1.png", "local2.png", "local3.png"]
    assert "position (14, 14) of 28x28" in figures["local1.png"]._suptitle.get_text()
    np.testing.assert_array_equal(first_layer_weights(model), weights["local1"][14, 14])

    maps = feature_maps(model, np.zeros((28, 28), dtype="float32"))
    assert [name for name, _ in maps] == ["local1", "local2", "local3"]


@pytest.mark.slow
def test_one_epoch_on_real_images(processed_mnist: Path, model_cfg) -> None:
    images = np.load(processed_mnist / "train_images.npy")[:256, ..., np.newaxis].astype("float32")
    labels = np.load(processed_mnist / "train_labels.npy")[:256]
    keras.utils.set_random_seed(0)
    model = model_cfg("locally_connected").build(images.shape[1:], 10)
    before = [np.array(w) for w in model.get_layer("local2").get_weights()]
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(images, labels, batch_size=64, epochs=1, verbose=0).history

    assert np.isfinite(history["loss"][0])
    after = model.get_layer("local2").get_weights()
    assert not np.allclose(before[0], after[0])  # gradients reach the per-position kernels
