"""Model configs: Hydra rejects unknown keys and wrong types, validation rejects bad values."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from hydra.errors import ConfigCompositionException
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import ConfigAttributeError, ValidationError

from convscope.cli import CONFIG_DIR
from convscope.errors import ConvscopeError
from convscope.models.config import (
    SCHEMAS,
    DenseConfig,
    LeNet5Config,
    StackedConvConfig,
    register_configs,
    validate_model_config,
)
from convscope.training.config import register_train_config

MODEL_NAMES = sorted(path.stem for path in (CONFIG_DIR / "model").glob("*.yaml"))


def compose_model(*overrides: str) -> DictConfig:
    """The `model` node of the real primary config composed with `overrides`."""
    register_configs()
    register_train_config()
    with initialize_config_dir(str(CONFIG_DIR), version_base="1.3"):
        return compose("config", overrides=list(overrides)).model


@pytest.fixture(scope="module")
def composed() -> dict[str, DictConfig]:
    """Each conf/model/<name>.yaml as composed by Hydra (composed once: ~1 s each)."""
    register_configs()  # compose_model registers again: registering must be idempotent
    return {name: compose_model(f"model={name}") for name in MODEL_NAMES}


def with_value(cfg: DictConfig, key: str, value: object) -> DictConfig:
    """A copy of `cfg` with `key` set, as an override `model.<key>=<value>` would."""
    changed = cfg.copy()
    OmegaConf.update(changed, key, value)
    return changed


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_every_yaml_composes_validates_and_is_named_after_its_file(
    composed: dict[str, DictConfig], name: str
) -> None:
    config = validate_model_config(composed[name])
    assert config.name == name
    assert isinstance(config, SCHEMAS[config.builder])
    assert OmegaConf.get_type(composed[name]) is SCHEMAS[config.builder]


def test_override_values_reach_the_dataclass() -> None:
    config = validate_model_config(compose_model("model=stacked_conv", "model.filters=[8,16,32]"))
    assert isinstance(config, StackedConvConfig)
    assert config.filters == [8, 16, 32]
    assert config.padding == "same"


def test_unknown_key_in_an_override_fails_at_composition() -> None:
    with pytest.raises(ConfigCompositionException) as info:
        compose_model("model=dense", "model.fliters=3")
    assert isinstance(info.value.__cause__, ConfigAttributeError)
    assert info.value.__cause__.full_key == "model.fliters"


def test_wrong_type_in_an_override_fails_at_composition() -> None:
    with pytest.raises(ConfigCompositionException) as info:
        compose_model("model=dense", "model.units=abc")
    assert isinstance(info.value.__cause__, ValidationError)
    assert info.value.__cause__.full_key == "model.units"


def test_unknown_key_in_a_yaml_file_fails_at_composition(tmp_path: Path) -> None:
    conf = tmp_path / "conf"
    shutil.copytree(CONFIG_DIR, conf)
    with (conf / "model" / "dense.yaml").open("a") as yaml:
        yaml.write("fliters: 3\n")
    register_configs()
    register_train_config()
    with (
        initialize_config_dir(str(conf), version_base="1.3"),
        pytest.raises(ConfigCompositionException, match="In 'model/dense'") as info,
    ):
        compose("config", overrides=["model=dense"])
    assert info.value.__context__.full_key == "model.fliters"


def test_key_of_another_model_is_unknown() -> None:
    with pytest.raises(ConfigCompositionException, match=re.escape("model.filters")) as info:
        compose_model("model=lenet5", "model.filters=[1,2,3]")
    assert isinstance(info.value.__cause__, ConfigAttributeError)
    assert info.value.__cause__.full_key == "model.filters"
    assert "LeNet5Config" in str(info.value.__cause__)


def test_key_appended_with_plus_is_rejected_by_validation() -> None:
    cfg = compose_model("model=lenet5", "+model.filters=[1,2,3]")
    with pytest.raises(
        ConvscopeError, match=re.escape("model.filters: unknown key for builder 'lenet5'")
    ):
        validate_model_config(cfg)


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
    composed: dict[str, DictConfig], name: str, key: str, value: object, message: str
) -> None:
    with pytest.raises(ConvscopeError, match=re.escape(message)) as info:
        validate_model_config(with_value(composed[name], key, value))
    assert "\n" not in str(info.value)


def test_impossible_value_from_the_command_line_is_rejected() -> None:
    cfg = compose_model("model=stacked_conv", "model.filters=[32,-8,64]")
    with pytest.raises(ConvscopeError, match=re.escape("model.filters[1]: expected a positive")):
        validate_model_config(cfg)


def test_plain_mapping_is_checked_against_the_schema_of_its_builder(model_cfg) -> None:
    plain = OmegaConf.to_container(model_cfg("lenet5", name="paper", pooling="average"))
    assert validate_model_config(plain) == LeNet5Config(
        name="paper", activation="relu", pooling="average"
    )
    dense = validate_model_config(model_cfg("dense", units=64))
    assert dense == DenseConfig(name="dense", units=64, activation="relu", dropout=0.2)


@pytest.mark.parametrize(
    "mapping, message",
    [
        ({"name": "x", "builder": "resnet"}, "model.builder: expected one of dense, lenet5"),
        ({"name": "x", "builder": "dense", "fliters": 3}, "model.fliters: unknown key for builder"),
        ({"name": "x", "builder": "dense", "units": "many"}, "model.units: Value 'many'"),
        (
            {"name": "x", "builder": "dense", "units": 9, "dropout": 0.0},
            "model.activation: Structured config of type `DenseConfig` has missing mandatory value",
        ),
    ],
)
def test_plain_mapping_errors_are_one_line(mapping: dict, message: str) -> None:
    with pytest.raises(ConvscopeError, match=re.escape(message)) as info:
        validate_model_config(mapping)
    assert "\n" not in str(info.value)
