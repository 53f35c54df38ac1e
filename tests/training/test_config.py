"""The `train` config: composed from conf/train/default.yaml, checked with one-line errors."""

from __future__ import annotations

import re

import pytest
from hydra import compose, initialize_config_dir
from hydra.errors import ConfigCompositionException
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import ConfigAttributeError, ValidationError

from convscope.cli import CONFIG_DIR
from convscope.errors import ConvscopeError
from convscope.models.config import register_configs
from convscope.training.config import TrainConfig, register_train_config, validate_train_config


def compose_train(*overrides: str) -> DictConfig:
    """The `train` node of the real primary config composed with `overrides`."""
    register_configs()
    register_train_config()
    with initialize_config_dir(str(CONFIG_DIR), version_base="1.3"):
        return compose("config", overrides=list(overrides)).train


@pytest.fixture(scope="module")
def default() -> DictConfig:
    return compose_train()


def test_default_yaml_validates_to_its_values(default: DictConfig) -> None:
    yaml = OmegaConf.load(CONFIG_DIR / "train" / "default.yaml")
    yaml.pop("defaults")

    config = validate_train_config(default)

    assert isinstance(config, TrainConfig)
    assert OmegaConf.to_container(OmegaConf.structured(config)) == OmegaConf.to_container(yaml)


def test_overrides_reach_the_dataclass() -> None:
    config = validate_train_config(
        compose_train("train.optimizer=sgd", "train.subset=512", "train.early_stopping.patience=0")
    )
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
    default: DictConfig, key: str, value: object, message: str
) -> None:
    changed = default.copy()
    OmegaConf.update(changed, key, value)
    with pytest.raises(ConvscopeError) as info:
        validate_train_config(changed)
    assert str(info.value) == message


def test_warmup_needs_the_cosine_schedule() -> None:
    with pytest.raises(ConvscopeError, match=re.escape("train.warmup_epochs: expected 0, or with")):
        validate_train_config(
            compose_train("train.schedule=exponential", "train.warmup_epochs=0.5")
        )


def test_impossible_value_from_the_command_line_is_rejected() -> None:
    with pytest.raises(ConvscopeError, match=re.escape("train.batch_size: expected a positive")):
        validate_train_config(compose_train("train.batch_size=-8"))


def test_unknown_key_fails_at_composition_naming_it() -> None:
    with pytest.raises(ConfigCompositionException) as info:
        compose_train("train.epoch=3")
    assert isinstance(info.value.__cause__, ConfigAttributeError)
    assert info.value.__cause__.full_key == "train.epoch"


def test_wrong_type_fails_at_composition_naming_it() -> None:
    with pytest.raises(ConfigCompositionException) as info:
        compose_train("train.epochs=many")
    assert isinstance(info.value.__cause__, ValidationError)
    assert info.value.__cause__.full_key == "train.epochs"


def test_best_profile_extends_the_default_and_validates() -> None:
    best = validate_train_config(compose_train("train=best"))
    default = validate_train_config(compose_train())
    assert best.epochs > default.epochs
    assert best.label_smoothing > 0 and best.warmup_epochs > 0
    assert not best.early_stopping.enabled
    assert (best.optimizer, best.batch_size) == (default.optimizer, default.batch_size)
