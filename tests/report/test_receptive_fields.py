"""Effective receptive fields and top-activating patches, on models whose answers are known."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pytest
from omegaconf import OmegaConf
from support import box_convs

from convscope.cli import CONFIG_DIR
from convscope.config import group_config
from convscope.models.anatomy import receptive_fields
from convscope.models.config import ModelConfig
from convscope.report.figures import save_figure
from convscope.report.receptive_fields import (
    effective_field_figure,
    effective_fields,
    smallest_square,
)
from convscope.report.top_patches import top_patches, top_patches_figure

MNIST_SHAPE = (28, 28, 1)


def built(name: str) -> keras.Model:
    """conf/model/<name>.yaml's model, built for MNIST."""
    yaml = OmegaConf.to_container(OmegaConf.load(CONFIG_DIR / "model" / f"{name}.yaml"))
    return group_config("model", ModelConfig, yaml).build(MNIST_SHAPE, 10)


def test_receptive_fields_say_where_they_start() -> None:
    lenet = receptive_fields(built("lenet5"))
    # C1: 5x5 'same' pads 2 before, so unit (i, j) sees rows i-2..i+2
    assert (lenet["C1"].size, lenet["C1"].jump, lenet["C1"].start) == ((5, 5), (1, 1), (-2, -2))
    assert (lenet["S2"].size, lenet["S2"].jump, lenet["S2"].start) == ((6, 6), (2, 2), (-2, -2))
    assert (lenet["C3"].size, lenet["C3"].start) == ((14, 14), (-2, -2))  # valid: no shift
    assert (lenet["C5"].size, lenet["C5"].jump) == ((32, 32), (4, 4))
    stacked = receptive_fields(built("stacked_conv"))
    # conv2 (3x3 same after a 2x2 pool, jump 2) pads one pool cell: start -1 - 1*2 = -3
    assert (stacked["conv2"].size, stacked["conv2"].start) == ((8, 8), (-3, -3))


def test_smallest_square() -> None:
    weights = np.zeros((10, 10))
    weights[2:5, 6:9] = 1.0
    assert smallest_square(weights, 0.95) == (3, (2, 6))
    assert smallest_square(weights, 0.1) == (1, (2, 6))
    assert smallest_square(np.ones((6, 6)), 0.95)[0] == 6


def test_effective_fields_of_box_filters_as_worked_out_by_hand() -> None:
    images = np.random.default_rng(0).uniform(0, 1, size=(4, 9, 9, 1)).astype("float32")
    fields = effective_fields(box_convs(2), images, mass=0.95, batch_size=3)
    (alone,) = effective_fields(box_convs(1), images)  # a model of one conv layer
    assert alone.extent == 3
    first, second = fields
    # one box: the centre unit weighs its 3x3 neighbourhood equally
    expected = np.zeros((9, 9))
    expected[3:6, 3:6] = 1 / 9
    np.testing.assert_allclose(first.gradient, expected, atol=1e-7)
    assert (first.extent, first.corner, first.theoretical) == (3, (3, 3), (3, 3))
    # two boxes: weights (1 2 3 2 1) x (1 2 3 2 1) / 81; the 4x4 square holds 64/81 < 95 %
    triangle = np.outer([1, 2, 3, 2, 1], [1, 2, 3, 2, 1]) / 81
    np.testing.assert_allclose(second.gradient[2:7, 2:7], triangle, atol=1e-7)
    assert (second.extent, second.theoretical) == (5, (5, 5))
    assert smallest_square(second.gradient, 0.5)[0] == 3  # 49/81 in the centre 3x3


def test_effective_fields_stay_inside_the_theoretical_field() -> None:
    keras.utils.set_random_seed(0)
    model = built("lenet5")
    images = np.random.default_rng(1).uniform(0, 255, size=(8, *MNIST_SHAPE)).astype("float32")
    fields = {field.layer: field for field in effective_fields(model, images)}
    assert list(fields) == ["C1", "C3", "C5"]
    theory = receptive_fields(model)
    for name in ("C1", "C3"):
        field, geometry = fields[name], theory[name]
        out_h, out_w = model.get_layer(name).output.shape[1:3]
        top = geometry.start[0] + out_h // 2 * geometry.jump[0]
        left = geometry.start[1] + out_w // 2 * geometry.jump[1]
        inside = np.zeros((28, 28), dtype=bool)
        inside[max(top, 0) : top + geometry.size[0], max(left, 0) : left + geometry.size[1]] = True
        assert field.gradient[~inside].sum() == 0.0
        assert field.gradient.sum() == pytest.approx(1.0)
        assert field.extent <= max(field.theoretical)


@pytest.mark.slow
def test_analyses_of_a_trained_lenet5_on_real_digits(processed_mnist: Path, tmp_path: Path) -> None:
    images = np.load(processed_mnist / "train_images.npy")[:512, ..., np.newaxis].astype("float32")
    labels = np.load(processed_mnist / "train_labels.npy")[:512]
    keras.utils.set_random_seed(0)
    model = built("lenet5")
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(images, labels, batch_size=64, epochs=1, verbose=0)

    fields = effective_fields(model, images[:200])
    assert [f.extent <= max(f.theoretical) for f in fields[:2]] == [True, True]
    assert fields[0].extent < fields[1].extent  # deeper layers see more of the image
    path = save_figure(effective_field_figure(fields, "LeNet-5"), tmp_path / "erf.png")
    assert path.stat().st_size > 0

    results = top_patches(model, images[:200], per_channel=6)
    assert [r.patches.shape for r in results] == [(6, 6, 5, 5), (16, 6, 14, 14), (120, 6, 32, 32)]
    assert (np.diff(results[1].activations, axis=1) <= 0).all()  # strongest first
    for result in results:
        save_figure(top_patches_figure(result, "LeNet-5"), tmp_path / f"{result.layer}.png")


def test_a_model_without_conv_layers_has_no_fields() -> None:
    inputs = keras.Input((28, 28, 1))
    outputs = keras.layers.Dense(10)(keras.layers.Flatten()(inputs))
    assert effective_fields(keras.Model(inputs, outputs), np.zeros((2, 28, 28, 1))) == []
