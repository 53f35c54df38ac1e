"""The layer table and parameter summary agree with counts done by hand."""

from __future__ import annotations

import keras
import pytest

from convscope.models.layers import COLUMNS, layer_table, parameter_summary

MNIST_SHAPE = (28, 28, 1)


@pytest.fixture
def build(model_cfg):
    """`build("dense", units=64)`: the model of conf/model/dense.yaml with `units` set."""

    def make(yaml_name: str, /, **values: object) -> keras.Model:
        return model_cfg(yaml_name, **values).build(MNIST_SHAPE, 10)

    return make


def test_lenet5_table_matches_a_hand_count(build) -> None:
    table = layer_table(build("lenet5")).set_index("layer")
    assert list(table.reset_index().columns) == list(COLUMNS)
    assert list(table.index) == ["rescale", "C1", "S2", "C3", "S4", "C5", "flatten", "F6", "output"]
    # (weights, biases, macs per image); conv MACs = out_h*out_w*out_c * k_h*k_w*in_c
    expected = {
        "C1": (6 * 5 * 5 * 1, 6, 28 * 28 * 6 * 5 * 5 * 1),  # 150, 6, 117,600
        "S2": (0, 0, 0),
        "C3": (16 * 5 * 5 * 6, 16, 10 * 10 * 16 * 5 * 5 * 6),  # 2,400, 16, 240,000
        "S4": (0, 0, 0),
        "C5": (120 * 5 * 5 * 16, 120, 1 * 1 * 120 * 5 * 5 * 16),  # 48,000, 120, 48,000
        "F6": (120 * 84, 84, 120 * 84),  # 10,080, 84, 10,080
        "output": (84 * 10, 10, 84 * 10),  # 840, 10, 840
    }
    for layer, (weights, biases, macs) in expected.items():
        row = table.loc[layer]
        assert (row["weights"], row["biases"], row["macs"]) == (weights, biases, macs), layer
        assert row["params"] == weights + biases, layer
    assert table.loc["C3", "output_shape"] == "10x10x16"
    assert table["macs"].sum() == 117_600 + 240_000 + 48_000 + 10_080 + 840 == 416_520

    summary = parameter_summary(build("lenet5"))
    assert summary["macs"] == 416_520
    assert summary["total_params"] == summary["trainable_params"] == 61_706
    assert summary["conv_params"] == 156 + 2_416 + 48_120
    assert summary["conv_weights"] == 150 + 2_400 + 48_000
    assert summary["dense_params"] == 10_164 + 850
    assert summary["dense_weights"] == 10_080 + 840
    assert summary["conv_layers"] == 3 and summary["dense_layers"] == 2


def test_a_conv_unit_sees_a_patch_where_a_dense_unit_sees_the_whole_image(build) -> None:
    conv_table = layer_table(build("stacked_conv", filters=[32, 64, 64])).set_index("layer")
    dense_table = layer_table(build("dense")).set_index("layer")
    # one 3x3 filter on the single grey channel: 9 weights; one hidden unit: 28*28 = 784
    assert conv_table.loc["conv1", "fan_in"] == 3 * 3 * 1 == 9
    assert dense_table.loc["fc1", "fan_in"] == 28 * 28 == 784
    # all 32 filters of conv1 together still hold fewer weights than a single dense unit
    assert conv_table.loc["conv1", "weights"] == 32 * 9 == 288
    assert dense_table.loc["fc1", "weights"] == 512 * 784
    # yet the conv applies its 9 weights at every one of the 28*28 positions
    assert conv_table.loc["conv1", "macs"] == 28 * 28 * 32 * 9


def test_batch_norm_counts_gamma_as_weights_beta_as_biases_and_stats_only_in_params(build) -> None:
    model = build("stacked_conv", filters=[32, 64, 64], batch_norm=True)
    table = layer_table(model).set_index("layer")
    bn1 = table.loc["bn1"]
    assert (bn1["weights"], bn1["biases"], bn1["params"], bn1["macs"]) == (32, 32, 4 * 32, 0)
    assert table.loc["conv1", "biases"] == 0
    summary = parameter_summary(model)
    moving_stats = 2 * (32 + 64 + 64)
    assert summary["batchnorm_params"] == 4 * (32 + 64 + 64)
    assert summary["non_trainable_params"] == moving_stats
    assert summary["total_params"] == model.count_params() == table["params"].sum()


def test_dense_summary(build) -> None:
    summary = parameter_summary(build("dense"))
    assert summary["conv_params"] == summary["conv_macs"] == summary["conv_layers"] == 0
    assert summary["dense_weights"] == 784 * 512 + 512 * 10
    assert summary["dense_biases"] == 512 + 10
    assert summary["macs"] == summary["dense_macs"] == 784 * 512 + 512 * 10
    assert all(isinstance(value, int) for value in summary.values())
