"""The per-layer table of the seed's argument, checked against numbers worked out by hand."""

from __future__ import annotations

import keras
import pandas as pd
import pytest

from convscope.errors import ConvscopeError
from convscope.models.anatomy import anatomy_markdown, layer_anatomy
from convscope.models.layers import layer_table

MNIST_SHAPE = (28, 28, 1)


def test_lenet5_receptive_fields_grow_as_worked_out_by_hand(model_cfg) -> None:
    table = layer_anatomy(model_cfg("lenet5").build(MNIST_SHAPE, 10)).set_index("layer")
    # r += (k - 1) * jump; jump *= stride, starting from r = 1, jump = 1:
    # C1 5x5: 1 + 4*1 = 5; S2 2x2/2: 5 + 1*1 = 6, jump 2; C3 5x5: 6 + 4*2 = 14;
    # S4 2x2/2: 14 + 1*2 = 16, jump 4; C5 5x5: 16 + 4*4 = 32 (more than the 28x28 image)
    assert table["receptive_field"].to_dict() == {
        "C1": "5x5",
        "S2": "6x6",
        "C3": "14x14",
        "S4": "16x16",
        "C5": "32x32",
        "F6": "28x28",  # after the flatten, every unit sees the whole image
        "output": "28x28",
    }


def test_lenet5_kernels_weights_and_the_dense_unit_they_replace(model_cfg) -> None:
    table = layer_anatomy(model_cfg("lenet5").build(MNIST_SHAPE, 10)).set_index("layer")

    c1, c3 = table.loc["C1"], table.loc["C3"]
    assert (c1.kernel, c1.kernels, c1.weights_per_kernel, c1.weights) == ("5x5x1", 6, 25, 150)
    assert c1.dense_unit_weights == 28 * 28 * 1  # 784
    assert (c3.kernel, c3.kernels, c3.weights_per_kernel, c3.weights) == ("5x5x6", 16, 150, 2400)
    assert c3.dense_unit_weights == 14 * 14 * 6  # 1,176
    s2 = table.loc["S2"]
    assert s2.kernel == "2x2" and pd.isna(s2.kernels) and pd.isna(s2.weights)


def test_lenet5_output_shapes_under_both_paddings(model_cfg) -> None:
    table = layer_anatomy(model_cfg("lenet5").build(MNIST_SHAPE, 10)).set_index("layer")
    shapes = table[["padding", "output_shape", "other_padding_output_shape"]]
    assert shapes.loc["C1"].tolist() == ["same", "28x28x6", "24x24x6"]  # valid: 28 - 5 + 1
    assert shapes.loc["C3"].tolist() == ["valid", "10x10x16", "14x14x16"]
    assert shapes.loc["C5"].tolist() == ["valid", "1x1x120", "5x5x120"]
    assert shapes.loc["S2"].tolist() == ["valid", "14x14x6", "14x14x6"]  # 28 is even


def test_dense_layer_has_one_weight_per_pixel_per_unit(model_cfg) -> None:
    table = layer_anatomy(model_cfg("dense").build(MNIST_SHAPE, 10)).set_index("layer")

    fc1 = table.loc["fc1"]
    assert (fc1.kernel, fc1.kernels, fc1.weights_per_kernel) == ("784", 512, 784)
    assert fc1.weights == 784 * 512
    assert fc1.dense_unit_weights == 784
    assert fc1.receptive_field == "28x28"
    assert pd.isna(fc1.padding) and pd.isna(fc1.other_padding_output_shape)
    assert list(table.index) == ["fc1", "output"]  # rescale, flatten and dropout left out


def test_weights_agree_with_the_layer_table(model_cfg) -> None:
    model = model_cfg("stacked_conv").build(MNIST_SHAPE, 10)
    anatomy = layer_anatomy(model).dropna(subset=["weights"]).set_index("layer")["weights"]
    counted = layer_table(model).set_index("layer")["weights"]
    assert anatomy.to_dict() == counted[anatomy.index].to_dict()


def test_the_issues_example_four_3x3_kernels_against_one_dense_unit() -> None:
    model = keras.Sequential(
        [keras.Input(MNIST_SHAPE), keras.layers.Conv2D(4, 3, name="conv")], name="tiny"
    )
    (row,) = layer_anatomy(model).itertuples()
    assert (row.model, row.weights, row.dense_unit_weights) == ("tiny", 36, 784)
    assert (row.output_shape, row.other_padding_output_shape) == ("26x26x4", "28x28x4")


def test_strides_and_dilation_enter_the_receptive_field() -> None:
    model = keras.Sequential(
        [
            keras.Input((32, 32, 1)),
            keras.layers.Conv2D(2, 3, strides=2, name="strided"),  # r = 3, jump 2
            keras.layers.Conv2D(2, 3, dilation_rate=2, name="dilated"),  # k_eff 5: 3 + 4*2
            keras.layers.AveragePooling2D(3, strides=1, name="pool"),  # 11 + 2*2
        ]
    )
    fields = layer_anatomy(model).set_index("layer")["receptive_field"].to_dict()
    assert fields == {"strided": "3x3", "dilated": "11x11", "pool": "15x15"}


def test_a_layer_without_a_receptive_field_rule_is_refused() -> None:
    model = keras.Sequential(
        [keras.Input(MNIST_SHAPE), keras.layers.Cropping2D(2, name="crop")], name="cropper"
    )
    with pytest.raises(ConvscopeError, match="no receptive-field rule for layer 'crop'"):
        layer_anatomy(model)


def test_markdown_shows_counts_with_separators_and_dashes_where_nothing_applies(
    model_cfg,
) -> None:
    lenet5 = layer_anatomy(model_cfg("lenet5").build(MNIST_SHAPE, 10))
    text = anatomy_markdown(lenet5)
    lines = text.splitlines()
    assert lines[0].startswith("| layer ")  # one model: no model column
    c5 = next(line for line in lines if line.startswith("| C5 "))
    assert "48,000" in c5 and "32x32" in c5
    s2 = next(line for line in lines if line.startswith("| S2 "))
    assert "—" in s2
    both = anatomy_markdown(
        pd.concat([lenet5, layer_anatomy(model_cfg("dense").build(MNIST_SHAPE, 10))])
    )
    assert both.splitlines()[0].startswith("| model ")
