"""Model configs: each YAML names its module's config class as `_target_`; the stage checks
it once against that class (unknown keys, wrong types, impossible values) in one line."""

from __future__ import annotations

import re

import pytest
from hydra.errors import ConfigCompositionException
from omegaconf import OmegaConf

from convscope.cli import CONFIG_DIR, compose_config, compose_stage_config
from convscope.config import group_config
from convscope.errors import ConvscopeError
from convscope.models.config import ModelConfig
from convscope.models.dense import DenseConfig
from convscope.models.lenet5 import LeNet5Config
from convscope.models.stacked_conv import StackedConvConfig

MODEL_NAMES = sorted(path.stem for path in (CONFIG_DIR / "model").glob("*.yaml"))


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_every_yaml_checks_and_is_named_after_its_file(name: str) -> None:
    yaml = OmegaConf.load(CONFIG_DIR / "model" / f"{name}.yaml")
    config = compose_stage_config("train", f"model={name}").model
    assert isinstance(config, ModelConfig)
    assert config.name == name
    assert f"{type(config).__module__}.{type(config).__qualname__}" == yaml._target_
    # The module holding the class is the model's module: convscope.models.<name>, or for a
    # variant of a model (other values on the same module) convscope.models.<module>, with the
    # YAML named <module>_<variant> (dense_equal_params).
    package, module = type(config).__module__.rsplit(".", 1)
    assert package == "convscope.models"
    assert name == module or name.startswith(f"{module}_")


def test_override_values_reach_the_dataclass() -> None:
    config = compose_stage_config("train", "model=stacked_conv", "model.filters=[8,16,32]").model
    assert isinstance(config, StackedConvConfig)
    assert config.filters == [8, 16, 32]
    assert config.padding == "same"


def test_unknown_key_in_an_override_fails_at_composition() -> None:
    with pytest.raises(ConfigCompositionException) as info:
        compose_config("train", "model=dense", "model.fliters=3")
    assert info.value.__cause__.full_key == "model.fliters"


def stage_error(*overrides: str) -> str:
    """The one-line error of checking the config composed with `overrides`."""
    with pytest.raises(ConvscopeError) as info:
        compose_stage_config("train", *overrides)
    assert "\n" not in str(info.value)
    return str(info.value)


def test_wrong_type_in_an_override_is_named() -> None:
    assert stage_error("model=dense", "model.units=abc").startswith(
        "model.units: Value 'abc' of type 'str' could not be converted to Integer"
    )


def test_unknown_key_in_a_yaml_file_is_named() -> None:
    yaml = OmegaConf.load(CONFIG_DIR / "model" / "dense.yaml")
    yaml.fliters = 3
    with pytest.raises(ConvscopeError, match=re.escape("model.fliters: Key 'fliters' not in")):
        model_config(OmegaConf.to_container(yaml))


def test_key_of_another_model_is_unknown() -> None:
    message = stage_error("model=lenet5", "+model.filters=[1,2,3]")
    assert message == "model.filters: Key 'filters' not in 'LeNet5Config'"


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("convscope.models.resnet.ResNetConfig", "model._target_: cannot import"),
        ("convscope.models.config.ModelConfig", "model._target_: expected a model's config"),
        ("convscope.data.config.DataConfig", "model._target_: expected a model's config"),
    ],
)
def test_target_that_is_no_model_config_is_named(target: str, message: str) -> None:
    assert stage_error(f"model._target_={target}").startswith(message)


def test_missing_target_is_named() -> None:
    with pytest.raises(ConvscopeError, match=r"^model\._target_: expected the model's config"):
        model_config({"name": "x", "units": 3})


@pytest.mark.parametrize(
    "name, key, value, message",
    [
        (
            "stacked_conv",
            "filters",
            [32, -8, 64],
            "model.filters[1]: expected a positive integer, got -8",
        ),
        ("stacked_conv", "filters", [32, 64], "model.filters: expected a list of 3"),
        ("stacked_conv", "kernel_size", 4, "model.kernel_size: expected an odd integer, got 4"),
        (
            "stacked_conv",
            "padding",
            "full",
            "model.padding: expected one of same, valid, got 'full'",
        ),
        ("stacked_conv", "strides", 0, "model.strides: expected a positive integer, got 0"),
        ("stacked_conv", "pool", "min", "model.pool: expected one of none, max, average"),
        ("stacked_conv", "dropout", 1.0, "model.dropout: expected a rate in [0, 1), got 1.0"),
        ("stacked_conv", "dense_units", 0, "model.dense_units: expected a positive integer"),
        ("dense", "activation", "swishy", "model.activation: expected one of relu, tanh"),
        ("dense", "units", -1, "model.units: expected a positive integer, got -1"),
        ("dense", "dropout", -0.1, "model.dropout: expected a rate in [0, 1), got -0.1"),
        ("lenet5", "pooling", "avg", "model.pooling: expected one of max, average, got 'avg'"),
        ("lenet5", "name", " ", "model.name: expected a non-empty name"),
    ],
)
def test_impossible_values_are_rejected_naming_the_key(
    model_cfg, name: str, key: str, value: object, message: str
) -> None:
    with pytest.raises(ConvscopeError, match=re.escape(message)) as info:
        model_cfg(name, **{key: value})
    assert "\n" not in str(info.value)


def test_impossible_value_from_the_command_line_is_rejected() -> None:
    message = stage_error("model=stacked_conv", "model.filters=[32,-8,64]")
    assert message.startswith("model.filters[1]: expected a positive")


def test_plain_mapping_is_checked_against_the_class_it_names(model_cfg) -> None:
    assert model_cfg("lenet5", name="paper", pooling="average") == LeNet5Config(
        name="paper", activation="relu", pooling="average"
    )
    dense = model_cfg("dense", units=64)
    assert dense == DenseConfig(name="dense", units=64, activation="relu", dropout=0.2)


@pytest.mark.parametrize(
    "mapping, message",
    [
        ({"fliters": 3}, "model.fliters: Key 'fliters' not in 'DenseConfig'"),
        ({"units": "many"}, "model.units: Value 'many'"),
        (
            {"units": 9, "dropout": 0.0},
            "model.activation: Structured config of type `DenseConfig` has missing mandatory value",
        ),
    ],
)
def test_plain_mapping_errors_are_one_line(mapping: dict, message: str) -> None:
    target = {"_target_": "convscope.models.dense.DenseConfig", "name": "x"}
    with pytest.raises(ConvscopeError, match=re.escape(message)) as info:
        model_config(target | mapping)
    assert "\n" not in str(info.value)


def model_config(values: dict) -> ModelConfig:
    """`values` (a model YAML) checked as the stages check the model group."""
    return group_config("model", ModelConfig, values)


def test_a_composed_config_is_checked_whole_once() -> None:
    config = compose_stage_config("train", "model=dense")
    assert isinstance(config.model, DenseConfig)
    assert config.train.epochs >= 1 and config.data.name == "mnist"
