"""The schemas hold types and checks only: every value lives in conf/*.yaml, so a field with a
default (other than MISSING) would be a second place for a value."""

from __future__ import annotations

import dataclasses
import importlib
import typing

import pytest
from hydra.errors import ConfigCompositionException
from hydra.utils import get_class
from omegaconf import MISSING, OmegaConf

from convscope.cli import CONFIG_DIR, compose_config, compose_stage_config
from convscope.config import plain
from convscope.errors import ConvscopeError
from convscope.models.config import ModelConfig
from convscope.records.seeds import training_seeds

STAGES = ("download", "preprocess", "train", "evaluate", "compare", "sweep")


def stage_schema(stage: str) -> type:
    """The schema `python -m convscope.<stage>` checks its config against."""
    return importlib.import_module(f"convscope.{stage}").main.schema


def group_schemas() -> list[type]:
    """The schema of every group of every stage's config."""
    return [
        kind
        for stage in STAGES
        for kind in typing.get_type_hints(stage_schema(stage)).values()
        if dataclasses.is_dataclass(kind)
    ]


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
        for schema in [*group_schemas(), ModelConfig, *model_schemas()]
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


@pytest.mark.parametrize("stage", STAGES)
def test_each_stage_composes_exactly_the_groups_of_its_schema(stage: str) -> None:
    schema = stage_schema(stage)
    composed = set(compose_config(schema_config_name(stage)))
    assert composed == set(typing.get_type_hints(schema))


def schema_config_name(stage: str) -> str:
    return importlib.import_module(f"convscope.{stage}").main.config_name


def test_a_stage_refuses_a_group_it_does_not_read_in_one_line() -> None:
    with pytest.raises(ConfigCompositionException, match="Could not override 'model'"):
        compose_stage_config("download", "model=dense")
    with pytest.raises(ConfigCompositionException, match=r"Could not override 'evaluate\.verbose'"):
        compose_stage_config("train", "evaluate.verbose=0")


def test_seeds_count_up_from_train_seed_and_each_config_carries_its_own() -> None:
    cfg = compose_stage_config("train", "seeds=3", "train.seed=7")
    assert training_seeds(cfg.train.seed, cfg.seeds) == [7, 8, 9]
    second = cfg.for_seed(8)
    assert second.train.seed == plain(second)["train"]["seed"] == 8
    assert cfg.train.seed == plain(cfg)["train"]["seed"] == 7  # the stage's own config unchanged
    assert compose_stage_config("train").seeds == 1  # manual runs: one seed


def test_the_plain_config_names_the_model_class_as_its_yaml_does() -> None:
    cfg = compose_stage_config("train", "model=stacked_conv")
    composed = OmegaConf.to_container(compose_config("train", "model=stacked_conv"), resolve=True)
    assert plain(cfg) == composed


@pytest.mark.parametrize("value", ["0", "-2", "two", "1.5", "true"])
def test_bad_seeds_is_one_line_naming_it(value: str) -> None:
    with pytest.raises(ConvscopeError) as caught:
        compose_stage_config("train", f"seeds={value}")
    assert str(caught.value).startswith("seeds: expected a positive integer")


@pytest.mark.parametrize("override", ["+seed=7", "+experiment_typo=best"])
def test_unknown_top_level_key_is_refused_in_one_line(override: str) -> None:
    # Hydra adds either as a plain top-level key, which no stage reads.
    key = override[1:].split("=")[0]
    with pytest.raises(ConvscopeError) as info:
        compose_stage_config("train", override)
    assert str(info.value).startswith(f"{key}: unknown top-level key {key!r}, not in conf/")
    assert "\n" not in str(info.value)
