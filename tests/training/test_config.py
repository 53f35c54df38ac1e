"""The `train` config: composed from conf/train/default.yaml, checked with one-line errors."""

from __future__ import annotations

import re

import pytest
from hydra.errors import ConfigCompositionException
from omegaconf import OmegaConf
from omegaconf.errors import ConfigAttributeError

from convscope.cli import CONFIG_DIR, compose_config, compose_stage_config
from convscope.config import typed
from convscope.errors import ConvscopeError
from convscope.training.config import TrainConfig


@pytest.fixture(scope="module")
def default() -> dict:
    """conf/train/default.yaml as the stage resolves it."""
    return OmegaConf.to_container(compose_config("train").train, resolve=True)


def test_default_yaml_checks_to_its_values(default: dict) -> None:
    yaml = OmegaConf.load(CONFIG_DIR / "train" / "default.yaml")

    config = compose_stage_config("train").train

    assert isinstance(config, TrainConfig)
    assert OmegaConf.to_container(OmegaConf.structured(config)) == OmegaConf.to_container(yaml)


def test_overrides_reach_the_dataclass() -> None:
    config = compose_stage_config(
        "train", "train.optimizer=sgd", "train.subset=512", "train.early_stopping.patience=0"
    ).train
    assert (config.optimizer, config.subset, config.early_stopping.patience) == ("sgd", 512, 0)


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        (
            "optimizer",
            "adagrad",
            "train.optimizer: expected one of ('adam', 'adamw', 'sgd', 'rmsprop'), got 'adagrad'",
        ),
        ("learning_rate", 0.0, "train.learning_rate: expected a positive number, got 0.0"),
        ("learning_rate", -1e-3, "train.learning_rate: expected a positive number, got -0.001"),
        (
            "schedule",
            "step",
            "train.schedule: expected one of ('constant', 'cosine', 'exponential'), got 'step'",
        ),
        (
            "warmup_epochs",
            -0.5,
            "train.warmup_epochs: expected 0, or with schedule cosine a number in (0, epochs), "
            "got -0.5",
        ),
        (
            "warmup_epochs",
            99.0,
            "train.warmup_epochs: expected 0, or with schedule cosine a number in (0, epochs), "
            "got 99.0",
        ),
        ("decay_rate", 0.0, "train.decay_rate: expected a number in (0, 1], got 0.0"),
        ("decay_rate", 1.5, "train.decay_rate: expected a number in (0, 1], got 1.5"),
        ("weight_decay", -0.1, "train.weight_decay: expected a number >= 0, got -0.1"),
        ("momentum", 1.0, "train.momentum: expected a number in [0, 1), got 1.0"),
        ("momentum", -0.5, "train.momentum: expected a number in [0, 1), got -0.5"),
        ("label_smoothing", 1.0, "train.label_smoothing: expected a number in [0, 1), got 1.0"),
        ("label_smoothing", -0.1, "train.label_smoothing: expected a number in [0, 1), got -0.1"),
        ("batch_size", 0, "train.batch_size: expected a positive integer, got 0"),
        ("epochs", 0, "train.epochs: expected a positive integer, got 0"),
        ("steps_per_execution", 0, "train.steps_per_execution: expected a positive integer, got 0"),
        (
            "early_stopping.patience",
            -1,
            "train.early_stopping.patience: expected an integer >= 0, got -1",
        ),
        ("subset", 0, "train.subset: expected null or a positive integer, got 0"),
        ("threads.intra_op", -1, "train.threads.intra_op: expected an integer >= 0, got -1"),
        ("threads.inter_op", -2, "train.threads.inter_op: expected an integer >= 0, got -2"),
    ],
)
def test_impossible_values_are_one_line_naming_the_key(
    default: dict, key: str, value: object, message: str
) -> None:
    changed = OmegaConf.create(default)
    OmegaConf.update(changed, key, value)
    with pytest.raises(ConvscopeError) as info:
        typed("train", TrainConfig, OmegaConf.to_container(changed))
    assert str(info.value) == message


def test_warmup_needs_the_cosine_schedule() -> None:
    with pytest.raises(ConvscopeError, match=re.escape("train.warmup_epochs: expected 0, or with")):
        compose_stage_config("train", "train.schedule=exponential", "train.warmup_epochs=0.5")


def test_impossible_value_from_the_command_line_is_rejected() -> None:
    with pytest.raises(ConvscopeError, match=re.escape("train.batch_size: expected a positive")):
        compose_stage_config("train", "train.batch_size=-8")


def test_unknown_key_fails_at_composition_naming_it() -> None:
    with pytest.raises(ConfigCompositionException) as info:
        compose_config("train", "train.epoch=3")
    assert isinstance(info.value.__cause__, ConfigAttributeError)
    assert info.value.__cause__.full_key == "train.epoch"


def test_unknown_key_added_with_plus_is_named() -> None:
    with pytest.raises(ConvscopeError, match=re.escape("train.epoch: Key 'epoch' not in")):
        compose_stage_config("train", "+train.epoch=3")


def test_wrong_type_is_named() -> None:
    with pytest.raises(ConvscopeError) as info:
        compose_stage_config("train", "train.epochs=many")
    assert str(info.value).startswith("train.epochs: Value 'many' of type 'str' could not")


def test_best_profile_extends_the_default() -> None:
    best = compose_stage_config("train", "train=best").train
    default = compose_stage_config("train").train
    assert best.epochs > default.epochs
    assert best.label_smoothing > 0 and best.warmup_epochs > 0
    assert not best.early_stopping.enabled
    assert (best.optimizer, best.schedule) == (default.optimizer, default.schedule)


def test_best_stacked_conv_profile_is_the_best_recipe_on_a_wider_stacked_conv() -> None:
    profile = compose_stage_config("train", "+experiment=best_stacked_conv")
    best = compose_stage_config("train", "train=best")
    assert profile.train == best.train
    assert profile.model.name == "stacked_conv"
    assert (profile.model.filters, profile.model.dense_units, profile.model.dropout) == (
        [48, 96, 192],
        256,
        0.3,
    )
    # 3x3 convs 1->48->96->192, each pooled (28 -> 14 -> 7 -> 3), then FC 1728->256->10
    conv = [(9 * 1 + 1) * 48, (9 * 48 + 1) * 96, (9 * 96 + 1) * 192]
    dense = [(3 * 3 * 192 + 1) * 256, (256 + 1) * 10]
    assert profile.model.build((28, 28, 1), 10).count_params() == sum(conv + dense) == 653_322
