"""A stage's whole config, checked once and typed: `stage_config(composed) -> StageConfig`.

Every config group has a schema in the package that owns it: a dataclass of types and value
checks whose fields have no values (every value lives in `conf/`). The model group's schema
is the class its YAML names as `_target_` (a `convscope.models.config.ModelConfig`), so
nothing here lists the models. `convscope.cli.stage` converts the composed config once, at
the stage's entry, and hands the stage a `StageConfig`; nothing below checks it again.
"""

from __future__ import annotations

import contextlib
import copy
import inspect
import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

from hydra.utils import get_class
from omegaconf import MISSING, DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from convscope.comparison.config import CompareConfig
from convscope.data.config import DataConfig
from convscope.errors import ConvscopeError, first_line
from convscope.evaluation.config import EvaluateConfig
from convscope.models.config import ModelConfig
from convscope.tracking.config import TrackingConfig
from convscope.training.config import TrainConfig

TARGET_KEY = "_target_"


@dataclass
class PathsConfig:
    """Where stages read and write (the `paths` of `conf/config.yaml`)."""

    raw: str = MISSING
    processed: str = MISSING
    model_dir: str = MISSING
    checkpoints: str = MISSING
    reports: str = MISSING


# Group -> schema, for every group but `model`, whose schema its `_target_` names.
GROUP_SCHEMAS: dict[str, type] = {
    "paths": PathsConfig,
    "data": DataConfig,
    "train": TrainConfig,
    "tracking": TrackingConfig,
    "evaluate": EvaluateConfig,
    "compare": CompareConfig,
}


@dataclass(frozen=True)
class StageConfig:
    """The checked config of a stage, one typed object per group.

    `composed` is the config as Hydra composed it (interpolations kept): for what needs the
    config whole (logging it to MLflow, the resume fingerprint) and for `paths` as they
    resolve for another model. Read settings from the typed groups.
    """

    paths: PathsConfig
    data: DataConfig
    model: ModelConfig
    train: TrainConfig
    tracking: TrackingConfig
    evaluate: EvaluateConfig
    compare: CompareConfig
    # How many seeds each model trains (the top-level `seeds`): train.seed, train.seed + 1, ...
    seeds: int
    composed: DictConfig = field(repr=False, compare=False)

    @property
    def training_seeds(self) -> list[int]:
        """The seeds each model trains: `train.seed + k` for k in range(seeds)."""
        return [self.train.seed + k for k in range(self.seeds)]

    def for_seed(self, seed: int) -> StageConfig:
        """This config with `train.seed` set to `seed` (in the typed group and in `composed`,
        which is logged to MLflow and fingerprints the resume state)."""
        composed = copy.deepcopy(self.composed)
        composed.train.seed = seed
        return replace(self, train=replace(self.train, seed=seed), composed=composed)


def stage_config(composed: DictConfig) -> StageConfig:
    """Check every group of `composed` against its schema; raise `ConvscopeError` in one line
    naming the first bad key (unknown key, wrong type, missing or impossible value)."""
    try:
        resolved = OmegaConf.to_container(composed, resolve=True)
    except OmegaConfBaseException as err:
        raise ConvscopeError(omegaconf_error_line(err)) from err
    assert isinstance(resolved, dict)
    known = {entry.name for entry in fields(StageConfig)} - {"composed"}
    unknown = sorted(set(resolved) - known)
    if unknown:
        # Hydra adds `+key=value` for a key, or `+group=option` for a group that conf/ lacks,
        # as a plain top-level key: without this check it would be silently ignored.
        raise ConvscopeError(
            f"{unknown[0]}: unknown top-level key {unknown[0]!r}, not in conf/ "
            f"(the top-level keys are {', '.join(sorted(known))})"
        )
    checked_model = model_config(resolved.get("model", {}))
    groups = {
        group: typed(group, schema, resolved.get(group, {}))
        for group, schema in GROUP_SCHEMAS.items()
    }
    seeds = resolved.get("seeds")
    if isinstance(seeds, bool) or not isinstance(seeds, int) or seeds < 1:
        raise ConvscopeError(
            f"seeds: expected a positive integer (how many seeds each model trains), got {seeds!r}"
        )
    return StageConfig(**groups, model=checked_model, seeds=seeds, composed=composed)


def model_config(values: Mapping[str, Any]) -> ModelConfig:
    """A resolved `model` config (a YAML of `conf/model/`, overridden) as the checked
    instance of the class its `_target_` names."""
    fields = dict(values)
    schema = model_schema(fields.pop(TARGET_KEY, None))
    return typed("model", schema, fields)


def model_schema(target: object) -> type[ModelConfig]:
    """The `ModelConfig` class that a model config's `_target_` names (imported)."""
    if not isinstance(target, str):
        raise ConvscopeError(
            f"model.{TARGET_KEY}: expected the model's config class, e.g. "
            f"convscope.models.lenet5.LeNet5Config, got {target!r}"
        )
    try:
        # get_class also logs its failure at ERROR level: the one-line error below says it.
        with _silenced("hydra.utils"):
            schema = get_class(target)
    except (ImportError, ValueError) as err:
        reason = " ".join(line.strip() for line in str(err).splitlines() if line.strip())
        raise ConvscopeError(f"model.{TARGET_KEY}: cannot import {target} ({reason})") from None
    if not issubclass(schema, ModelConfig) or inspect.isabstract(schema):
        raise ConvscopeError(
            f"model.{TARGET_KEY}: expected a model's config class (a concrete subclass of "
            f"convscope.models.config.ModelConfig), got {target}"
        )
    return schema


@contextlib.contextmanager
def _silenced(logger_name: str) -> Iterator[None]:
    """Drop the named logger's records while the block runs."""
    logger = logging.getLogger(logger_name)
    disabled, logger.disabled = logger.disabled, True
    try:
        yield
    finally:
        logger.disabled = disabled


def typed(group: str, schema: type, values: Mapping[str, Any]) -> Any:
    """`values` (the resolved `group`) merged onto `schema` and converted to an instance of
    it, which runs its value checks; OmegaConf's errors become one line naming the key."""
    try:
        return OmegaConf.to_object(OmegaConf.merge(OmegaConf.structured(schema), values))
    except OmegaConfBaseException as err:
        raise ConvscopeError(omegaconf_error_line(err, prefix=group)) from err


def omegaconf_error_line(err: OmegaConfBaseException, prefix: str = "") -> str:
    """Render an OmegaConf error (unknown key, wrong type, missing value) as one line."""
    full_key = getattr(err, "full_key", None) or ""
    key = ".".join(part for part in (prefix, full_key) if part)
    return f"{key}: {first_line(err)}" if key else first_line(err)
