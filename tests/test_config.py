"""The schemas hold types and checks only: every value lives in conf/*.yaml, so a field with a
default (other than MISSING) would be a second place for a value."""

from __future__ import annotations

import dataclasses
import typing

import pytest
from hydra.utils import get_class
from omegaconf import MISSING, OmegaConf

from convscope.cli import CONFIG_DIR, compose_stage_config
from convscope.config import GROUP_SCHEMAS, StageConfig
from convscope.errors import ConvscopeError
from convscope.models.config import ModelConfig


def model_schemas() -> list[type]:
    """The class each conf/model/*.yaml names as `_target_`."""
    return [
        get_class(OmegaConf.load(path)._target_)
        for path in sorted((CONFIG_DIR / "model").glob("*.yaml"))
    ]


def nested_schemas(schema: type) -> list[type]:
    """`schema` and every dataclass its fields hold, directly or in a list or dict."""
    found = [schema]
    for field_type in typing.get_type_hints(schema).values():
        for candidate in (field_type, *typing.get_args(field_type)):
            if dataclasses.is_dataclass(candidate):
                found += nested_schemas(candidate)
    return found


SCHEMAS = sorted(
    {
        nested
        for schema in [*GROUP_SCHEMAS.values(), ModelConfig, *model_schemas()]
        for nested in nested_schemas(schema)
    },
    key=lambda schema: schema.__qualname__,
)


def test_the_walk_finds_nested_and_model_schemas() -> None:
    names = {schema.__name__ for schema in SCHEMAS}
    assert {"EarlyStoppingConfig", "TimingConfig", "RegistryConfig", "FileConfig"} <= names
    assert {"DenseConfig", "LeNet5Config", "StackedConvConfig"} <= names


@pytest.mark.parametrize("schema", SCHEMAS, ids=lambda schema: schema.__qualname__)
def test_no_schema_field_has_a_value(schema: type) -> None:
    with_values = [
        field.name
        for field in dataclasses.fields(schema)
        if field.default is not MISSING or field.default_factory is not dataclasses.MISSING
    ]
    assert not with_values, f"{schema.__qualname__}: defaults for {with_values}; put them in conf/"


def test_every_group_of_the_primary_config_has_a_schema() -> None:
    composed_groups = set(compose_stage_config().composed)
    typed_groups = {field.name for field in dataclasses.fields(StageConfig)} - {"composed"}
    assert composed_groups == typed_groups


def test_seeds_count_up_from_train_seed_and_each_config_carries_its_own() -> None:
    cfg = compose_stage_config("seeds=3", "train.seed=7")
    assert cfg.training_seeds == [7, 8, 9]
    second = cfg.for_seed(8)
    assert second.train.seed == second.composed.train.seed == 8
    assert cfg.train.seed == cfg.composed.train.seed == 7  # the stage's own config unchanged
    assert compose_stage_config().training_seeds == [42]  # manual runs: one seed


@pytest.mark.parametrize("value", ["0", "-2", "two", "1.5", "true"])
def test_bad_seeds_is_one_line_naming_it(value: str) -> None:
    with pytest.raises(ConvscopeError) as caught:
        compose_stage_config(f"seeds={value}")
    assert str(caught.value).startswith("seeds: expected a positive integer")


@pytest.mark.parametrize("override", ["+seed=7", "+experiment_typo=best"])
def test_unknown_top_level_key_is_refused_in_one_line(override: str) -> None:
    # Hydra adds either as a plain top-level key, which no stage reads.
    key = override[1:].split("=")[0]
    with pytest.raises(ConvscopeError) as info:
        compose_stage_config(override)
    assert str(info.value).startswith(f"{key}: unknown top-level key {key!r}, not in conf/")
    assert "\n" not in str(info.value)
