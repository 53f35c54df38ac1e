"""A stage's config, checked once and typed: `stage_config(schema, composed) -> schema`.

Each stage declares its schema: a frozen dataclass with one field per config group it reads,
typed by the group's schema (a dataclass of types and value checks whose fields have no
values; every value lives in `conf/`), plus its top-level values (`seeds`). A group whose
schema is abstract (`model`: `convscope.models.config.ModelConfig`) is checked against the
concrete class its YAML names as `_target_`, which is imported then, and only then: a stage
imports the model it runs, not every model. `convscope.cli.stage` converts the composed
config once, at the stage's entry; nothing below checks it again, and `plain` turns it back
into the nested values it came from (for MLflow params).
"""

from __future__ import annotations

import contextlib
import dataclasses
import inspect
import logging
import typing
from collections.abc import Iterator, Mapping
from typing import Any, TypeVar

from hydra.utils import get_class
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from convscope.errors import ConvscopeError, first_line

TARGET_KEY = "_target_"
Schema = TypeVar("Schema")


def stage_config(schema: type[Schema], composed: DictConfig) -> Schema:
    """Check every group of `composed` against its field's schema in `schema`; raise
    `ConvscopeError` in one line naming the first bad key (unknown key, wrong type, missing
    or impossible value)."""
    try:
        resolved = OmegaConf.to_container(composed, resolve=True)
    except OmegaConfBaseException as err:
        raise ConvscopeError(omegaconf_error_line(err)) from err
    assert isinstance(resolved, dict)
    kinds = typing.get_type_hints(schema)
    unknown = sorted(set(resolved) - set(kinds))
    if unknown:
        # Hydra adds `+key=value` for a key, or `+group=option` for a group that the stage's
        # config lacks, as a plain top-level key: without this check it would be ignored.
        raise ConvscopeError(
            f"{unknown[0]}: unknown top-level key {unknown[0]!r}, not in conf/ "
            f"(the top-level keys are {', '.join(sorted(kinds))})"
        )
    values = {
        key: group_config(key, kind, resolved.get(key, {}))
        if dataclasses.is_dataclass(kind)
        else resolved.get(key)
        for key, kind in kinds.items()
    }
    return schema(**values)


def group_config(group: str, schema: type, values: Mapping[str, Any]) -> Any:
    """`values` (the resolved `group`) as a checked instance of `schema`, or, when `schema` is
    abstract, of the concrete subclass of it that `values` names as `_target_`."""
    if not inspect.isabstract(schema):
        return typed(group, schema, values)
    fields = dict(values)
    return typed(group, target_class(group, schema, fields.pop(TARGET_KEY, None)), fields)


def target_class(group: str, base: type, target: object) -> type:
    """The concrete subclass of `base` that `group`'s `_target_` names (imported)."""
    key, base_name = f"{group}.{TARGET_KEY}", f"{base.__module__}.{base.__qualname__}"
    if not isinstance(target, str):
        raise ConvscopeError(
            f"{key}: expected the {group}'s config class (a concrete subclass of "
            f"{base_name}), got {target!r}"
        )
    try:
        # get_class also logs its failure at ERROR level: the one-line error below says it.
        with _silenced("hydra.utils"):
            cls = get_class(target)
    except (ImportError, ValueError) as err:
        reason = " ".join(line.strip() for line in str(err).splitlines() if line.strip())
        raise ConvscopeError(f"{key}: cannot import {target} ({reason})") from None
    if not issubclass(cls, base) or inspect.isabstract(cls):
        raise ConvscopeError(
            f"{key}: expected a {group}'s config class (a concrete subclass of {base_name}), "
            f"got {target}"
        )
    return cls


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


def plain(config: object) -> dict[str, Any]:
    """A checked stage config as the nested plain values it was made of, a group checked
    against its `_target_` with that class named again as `_target_`."""
    kinds = typing.get_type_hints(type(config))
    values: dict[str, Any] = {}
    for field in dataclasses.fields(config):  # type: ignore[arg-type]
        value = getattr(config, field.name)
        if dataclasses.is_dataclass(value):
            value = (
                with_target(value)
                if inspect.isabstract(kinds[field.name])
                else dataclasses.asdict(value)
            )
        values[field.name] = value
    return values


def with_target(group: object) -> dict[str, Any]:
    """A checked group (a dataclass instance) as its values, its class named as `_target_`."""
    target = type(group)
    named = {TARGET_KEY: f"{target.__module__}.{target.__qualname__}"}
    return named | dataclasses.asdict(group)  # type: ignore[call-overload]


def check_seeds(seeds: object) -> None:
    """Raise `ConvscopeError` unless `seeds` (how many seeds each model trains) is >= 1."""
    if isinstance(seeds, bool) or not isinstance(seeds, int) or seeds < 1:
        raise ConvscopeError(
            f"seeds: expected a positive integer (how many seeds each model trains), got {seeds!r}"
        )


def omegaconf_error_line(err: OmegaConfBaseException, prefix: str = "") -> str:
    """Render an OmegaConf error (unknown key, wrong type, missing value) as one line."""
    full_key = getattr(err, "full_key", None) or ""
    key = ".".join(part for part in (prefix, full_key) if part)
    return f"{key}: {first_line(err)}" if key else first_line(err)
