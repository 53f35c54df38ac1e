"""Optimizers and learning-rate schedules, as configured and as the compiled model gets them."""

from __future__ import annotations

import dataclasses
import math

import keras
import numpy as np
import pytest

from convscope.cli import compose_stage_config
from convscope.training.config import TrainConfig
from convscope.training.optim import (
    SmoothedSparseCrossentropy,
    learning_rate,
    make_loss,
    make_optimizer,
)
from convscope.training.trainer import compiled_model

STEPS_PER_EPOCH = 10


def train_config(**values: object) -> TrainConfig:
    """The default TrainConfig with every value that the optimizer reads given explicitly."""
    base: dict[str, object] = {
        "optimizer": "adam",
        "learning_rate": 0.01,
        "schedule": "constant",
        "decay_rate": 0.5,
        "weight_decay": 0.0,
        "momentum": 0.9,
        "epochs": 4,
        "warmup_epochs": 0.0,
    }
    return dataclasses.replace(compose_stage_config("train").train, **{**base, **values})


def rate_at(optimizer: keras.optimizers.Optimizer, step: int) -> float:
    """The learning rate the optimizer applies after `step` updates."""
    optimizer.iterations.assign(step)
    return float(optimizer.learning_rate)


def test_constant_rate_is_the_configured_number() -> None:
    cfg = train_config(learning_rate=0.02)
    assert learning_rate(cfg, STEPS_PER_EPOCH) == 0.02
    optimizer = make_optimizer(cfg, STEPS_PER_EPOCH)
    assert [rate_at(optimizer, step) for step in (0, 25, 40)] == pytest.approx([0.02] * 3)


def test_cosine_decays_to_zero_over_all_epochs() -> None:
    cfg = train_config(schedule="cosine", learning_rate=0.01, epochs=4)
    schedule = learning_rate(cfg, STEPS_PER_EPOCH)
    assert isinstance(schedule, keras.optimizers.schedules.CosineDecay)

    expected = {
        0: 0.01,
        10: 0.01 * (1 + math.cos(math.pi / 4)) / 2,  # end of epoch 1 of 4
        20: 0.005,  # half way
        30: 0.01 * (1 + math.cos(3 * math.pi / 4)) / 2,
        40: 0.0,  # end of the last epoch
        50: 0.0,  # stays at zero
    }
    actual = {step: float(schedule(step)) for step in expected}
    assert actual == pytest.approx(expected, abs=1e-9)
    optimizer = make_optimizer(cfg, STEPS_PER_EPOCH)
    assert rate_at(optimizer, 20) == pytest.approx(0.005)


def test_cosine_warms_up_linearly_then_decays_to_zero_by_the_last_step() -> None:
    cfg = train_config(schedule="cosine", learning_rate=0.01, epochs=4, warmup_epochs=1.0)
    schedule = learning_rate(cfg, STEPS_PER_EPOCH)

    expected = {
        0: 0.0,
        5: 0.005,  # half way through the warm-up epoch
        10: 0.01,  # peak at the end of the warm-up
        25: 0.005,  # half way through the 30 decay steps
        40: 0.0,  # end of the last epoch
        50: 0.0,
    }
    actual = {step: float(schedule(step)) for step in expected}
    assert actual == pytest.approx(expected, abs=1e-9)


def test_exponential_multiplies_by_decay_rate_each_epoch_smoothly() -> None:
    cfg = train_config(schedule="exponential", learning_rate=0.01, decay_rate=0.5)
    schedule = learning_rate(cfg, STEPS_PER_EPOCH)
    assert isinstance(schedule, keras.optimizers.schedules.ExponentialDecay)

    expected = {0: 0.01, 5: 0.01 * 0.5**0.5, 10: 0.005, 20: 0.0025, 30: 0.00125}
    actual = {step: float(schedule(step)) for step in expected}
    assert actual == pytest.approx(expected, rel=1e-6)


def test_decay_rate_one_keeps_the_rate() -> None:
    schedule = learning_rate(train_config(schedule="exponential", decay_rate=1.0), 7)
    assert float(schedule(70)) == pytest.approx(0.01)


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("adam", keras.optimizers.Adam),
        ("adamw", keras.optimizers.AdamW),
        ("sgd", keras.optimizers.SGD),
        ("rmsprop", keras.optimizers.RMSprop),
    ],
)
def test_each_optimizer_type_with_its_learning_rate(name: str, kind: type) -> None:
    optimizer = make_optimizer(train_config(optimizer=name, learning_rate=0.003), 5)
    assert type(optimizer) is kind
    assert rate_at(optimizer, 0) == pytest.approx(0.003)


def test_adamw_gets_the_weight_decay() -> None:
    optimizer = make_optimizer(train_config(optimizer="adamw", weight_decay=0.04), 5)
    assert optimizer.weight_decay == pytest.approx(0.04)


def test_sgd_gets_the_momentum_with_nesterov() -> None:
    optimizer = make_optimizer(train_config(optimizer="sgd", momentum=0.7), 5)
    assert optimizer.momentum == pytest.approx(0.7)
    assert optimizer.nesterov is True


def test_schedule_applies_to_every_optimizer() -> None:
    cfg = train_config(optimizer="rmsprop", schedule="exponential", decay_rate=0.1)
    assert rate_at(make_optimizer(cfg, STEPS_PER_EPOCH), 10) == pytest.approx(0.001)


def compiled(*overrides: str, train_images: int = 1000) -> keras.Model:
    """A model compiled from the real composed config with `overrides`."""
    cfg = compose_stage_config("train", "model=dense", *overrides)
    return compiled_model(cfg.model, cfg.data, cfg.train, train_images)


def test_settings_reach_the_compiled_models_optimizer() -> None:
    sgd = compiled("train.optimizer=sgd", "train.momentum=0.5", "train.learning_rate=0.2")
    assert type(sgd.optimizer) is keras.optimizers.SGD
    assert sgd.optimizer.momentum == pytest.approx(0.5)

    adamw = compiled("train.optimizer=adamw", "train.weight_decay=0.01")
    assert type(adamw.optimizer) is keras.optimizers.AdamW
    assert adamw.optimizer.weight_decay == pytest.approx(0.01)


def test_cosine_of_the_compiled_model_spans_every_step_of_every_epoch() -> None:
    # 1000 images in batches of 128: 8 steps per epoch (the last one partial), 5 epochs.
    model = compiled(
        "train.schedule=cosine",
        "train.warmup_epochs=0",
        "train.learning_rate=0.1",
        "train.batch_size=128",
        "train.epochs=5",
        train_images=1000,
    )
    assert rate_at(model.optimizer, 20) == pytest.approx(0.05)
    assert rate_at(model.optimizer, 40) == pytest.approx(0.0, abs=1e-9)
    assert rate_at(model.optimizer, 39) > 0


PROBABILITIES = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]], dtype="float32")
LABELS = np.array([0, 1])


def test_label_smoothing_zero_is_the_plain_sparse_crossentropy() -> None:
    assert make_loss(train_config(label_smoothing=0.0)) == "sparse_categorical_crossentropy"
    plain = keras.losses.SparseCategoricalCrossentropy()(LABELS, PROBABILITIES)
    assert float(SmoothedSparseCrossentropy(0.0)(LABELS, PROBABILITIES)) == pytest.approx(
        float(plain), rel=1e-6
    )


def test_label_smoothing_mixes_the_true_class_with_the_uniform_target() -> None:
    loss = make_loss(train_config(label_smoothing=0.3))
    targets = np.eye(3)[LABELS] * 0.7 + 0.1  # 1 - s + s/K on the true class, s/K elsewhere
    expected = -(targets * np.log(PROBABILITIES)).sum(axis=1).mean()
    assert float(loss(LABELS, PROBABILITIES)) == pytest.approx(expected, rel=1e-5)


def test_label_smoothed_model_trains_saves_and_loads(tmp_path) -> None:
    model = compiled("train.label_smoothing=0.1", train_images=64)
    assert model.loss.label_smoothing == pytest.approx(0.1)
    images = np.random.default_rng(0).integers(0, 255, (64, 28, 28, 1)).astype("float32")
    model.fit(images, np.arange(64) % 10, epochs=1, batch_size=32, verbose=0)
    model.save(tmp_path / "model.keras")
    loaded = keras.models.load_model(tmp_path / "model.keras")
    assert loaded.loss.label_smoothing == pytest.approx(0.1)
