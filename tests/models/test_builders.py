"""Each model builds with the parameter count worked out by hand from its architecture."""

from __future__ import annotations

import pytest

from convscope.cli import CONFIG_DIR
from convscope.errors import ConvscopeError

MNIST_SHAPE = (28, 28, 1)

MODEL_NAMES = sorted(path.stem for path in (CONFIG_DIR / "model").glob("*.yaml"))


def conv(k: int, c_in: int, c_out: int, bias: bool = True) -> int:
    """Parameters of a k x k convolution: c_out kernels of k*k*c_in weights, plus biases."""
    return c_out * (k * k * c_in) + (c_out if bias else 0)


def dense(n_in: int, n_out: int) -> int:
    """Parameters of a fully connected layer: a weight per input and a bias per unit."""
    return n_out * n_in + n_out


def test_dense_default(model_cfg) -> None:
    model = model_cfg("dense").build(MNIST_SHAPE, 10)
    # 784 pixels -> 512 hidden units -> 10 classes
    assert model.count_params() == (784 * 512 + 512) + (512 * 10 + 10) == 407_050
    assert model.output_shape == (None, 10)


def test_dense_variant_without_dropout(model_cfg) -> None:
    model = model_cfg("dense", units=64, dropout=0.0).build(MNIST_SHAPE, 10)
    assert model.count_params() == dense(784, 64) + dense(64, 10) == 50_890
    assert "dropout" not in [layer.name for layer in model.layers]


@pytest.mark.parametrize("activation, pooling", [("relu", "max"), ("tanh", "average")])
def test_lenet5_matches_the_paper_layout(model_cfg, activation: str, pooling: str) -> None:
    model = model_cfg("lenet5", activation=activation, pooling=pooling).build(MNIST_SHAPE, 10)
    c1 = 6 * (5 * 5 * 1) + 6  # 156: six 5x5 kernels on the single input map
    c3 = 16 * (5 * 5 * 6) + 16  # 2,416: full S2->C3 connections (paper's table: 1,516)
    c5 = 120 * (5 * 5 * 16) + 120  # 48,120: a 5x5 conv on the 5x5x16 S4 maps -> 1x1x120
    f6 = 84 * 120 + 84  # 10,164
    output = 10 * 84 + 10  # 850
    assert model.count_params() == c1 + c3 + c5 + f6 + output == 61_706
    shapes = {layer.name: layer.output.shape[1:] for layer in model.layers}
    assert shapes["C1"] == (28, 28, 6)
    assert shapes["S2"] == (14, 14, 6)
    assert shapes["C3"] == (10, 10, 16)
    assert shapes["S4"] == (5, 5, 16)
    assert shapes["C5"] == (1, 1, 120)
    assert shapes["F6"] == (84,)
    pool_type = {"max": "MaxPooling2D", "average": "AveragePooling2D"}[pooling]
    assert type(model.get_layer("S2")).__name__ == pool_type
    assert model.get_layer("C3").activation.__name__ == activation


def test_stacked_conv_default(model_cfg) -> None:
    model = model_cfg("stacked_conv").build(MNIST_SHAPE, 10)
    # filters 16, 32, 64; same padding + 2x2 pooling: 28 -> 14 -> 7 -> 3, so 3*3*64 = 576
    # features reach fc1 (128 units)
    expected = (
        conv(3, 1, 16) + conv(3, 16, 32) + conv(3, 32, 64) + dense(3 * 3 * 64, 128) + dense(128, 10)
    )
    assert expected == 160 + 4_640 + 18_496 + 73_856 + 1_290 == 98_442
    assert model.count_params() == expected


def test_stacked_conv_wider(model_cfg) -> None:
    model = model_cfg("stacked_conv", filters=[32, 64, 64]).build(MNIST_SHAPE, 10)
    expected = (
        conv(3, 1, 32) + conv(3, 32, 64) + conv(3, 64, 64) + dense(3 * 3 * 64, 128) + dense(128, 10)
    )
    assert expected == 320 + 18_496 + 36_928 + 73_856 + 1_290 == 130_890
    assert model.count_params() == expected


def test_stacked_conv_valid_padding_stride_2_without_pooling(model_cfg) -> None:
    cfg = model_cfg("stacked_conv", filters=[8, 16, 32], padding="valid", strides=2, pool="none")
    model = cfg.build(MNIST_SHAPE, 10)
    # valid, stride 2: ceil((28-2)/2) = 13 -> ceil((13-2)/2) = 6 -> ceil((6-2)/2) = 2
    assert model.get_layer("conv3").output.shape[1:] == (2, 2, 32)
    expected = (
        conv(3, 1, 8) + conv(3, 8, 16) + conv(3, 16, 32) + dense(2 * 2 * 32, 128) + dense(128, 10)
    )
    assert model.count_params() == expected == 80 + 1_168 + 4_640 + 16_512 + 1_290


def test_stacked_conv_batch_norm_replaces_conv_biases(model_cfg) -> None:
    cfg = model_cfg("stacked_conv", batch_norm=True, kernel_size=5, dropout=0.0)
    model = cfg.build(MNIST_SHAPE, 10)
    # bias-free convs; each BatchNormalization holds gamma, beta, moving mean and variance
    bn = 4 * (16 + 32 + 64)
    expected = (
        conv(5, 1, 16, bias=False)
        + conv(5, 16, 32, bias=False)
        + conv(5, 32, 64, bias=False)
        + bn
        + dense(576, 128)
        + dense(128, 10)
    )
    assert model.count_params() == expected
    assert [layer.name for layer in model.layers][2:5] == ["conv1", "bn1", "act1"]


def test_stacked_conv_that_shrinks_the_image_to_nothing_is_refused(model_cfg) -> None:
    cfg = model_cfg("stacked_conv", kernel_size=7, padding="valid", strides=2)
    # 28 -> 11 -> pool 5 -> 0 in block 2
    with pytest.raises(ConvscopeError, match="to nothing in conv block 2"):
        cfg.build(MNIST_SHAPE, 10)


def test_models_end_in_a_softmax_over_the_classes(model_cfg) -> None:
    for name in MODEL_NAMES:
        model = model_cfg(name).build(MNIST_SHAPE, 7)
        assert model.output_shape == (None, 7)
        assert model.layers[-1].activation.__name__ == "softmax"
        assert model.get_layer("rescale").scale == pytest.approx(1 / 255)


def test_dense_equal_params_has_about_lenet5s_parameter_count(model_cfg) -> None:
    lenet5 = model_cfg("lenet5").build(MNIST_SHAPE, 10).count_params()
    model = model_cfg("dense_equal_params").build(MNIST_SHAPE, 10)
    units = model.get_layer("fc1").units
    assert model.count_params() == dense(784, units) + dense(units, 10) == 62_020
    assert abs(model.count_params() - lenet5) / lenet5 < 0.01  # 62,020 against 61,706
    # no other width comes nearer: one unit more or fewer is 795 parameters away
    for other in (units - 1, units + 1):
        count = model_cfg("dense_equal_params", units=other).build(MNIST_SHAPE, 10).count_params()
        assert abs(count - lenet5) > abs(model.count_params() - lenet5)
