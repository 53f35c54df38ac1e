"""Structured configs (schemas) of the `model` config group, and their validation.

Each YAML in `conf/model/` extends its schema through its defaults list
(`defaults: [dense_schema, _self_]`), so Hydra rejects an unknown key or a value of the
wrong type while composing. Value checks that a type cannot express (a positive number of
filters, an odd kernel, a known activation) run in each dataclass' `__post_init__`, which
`validate_model_config` triggers by converting the composed config to its dataclass.
The schemas hold types only: every value comes from the YAML (one place for defaults).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from hydra.core.config_store import ConfigStore
from omegaconf import MISSING, DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from convscope.errors import ConvscopeError, first_line

ACTIVATIONS = ("relu", "tanh", "sigmoid", "elu", "selu", "gelu", "silu")
PADDINGS = ("same", "valid")
POOLINGS = ("max", "average")


@dataclass
class ModelConfig:
    """Keys every model config has: its `name` (the YAML's name) and its `builder` key."""

    name: str = MISSING
    builder: str = MISSING

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise ConvscopeError("model.name: expected a non-empty name, got ''")


@dataclass
class DenseConfig(ModelConfig):
    """`Flatten => FC(units, activation) => [Dropout] => FC(num_classes, softmax)`."""

    builder: str = "dense"
    units: int = MISSING
    activation: str = MISSING
    dropout: float = MISSING

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_positive("units", self.units)
        _check_choice("activation", self.activation, ACTIVATIONS)
        _check_rate("dropout", self.dropout)


@dataclass
class LeNet5Config(ModelConfig):
    """LeNet-5 (LeCun et al. 1998); the paper used `tanh` and `average` pooling."""

    builder: str = "lenet5"
    activation: str = MISSING
    pooling: str = MISSING

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_choice("activation", self.activation, ACTIVATIONS)
        _check_choice("pooling", self.pooling, POOLINGS)


@dataclass
class StackedConvConfig(ModelConfig):
    """`INPUT => 3x [CONV => (BN) => ACT => (POOL)] => FC(dense_units) => FC(num_classes)`."""

    builder: str = "stacked_conv"
    filters: list[int] = MISSING
    kernel_size: int = MISSING
    padding: str = MISSING
    strides: int = MISSING
    pool: str = MISSING
    activation: str = MISSING
    batch_norm: bool = MISSING
    dropout: float = MISSING
    dense_units: int = MISSING

    def __post_init__(self) -> None:
        super().__post_init__()
        if len(self.filters) != 3:
            raise ConvscopeError(
                f"model.filters: expected a list of 3 positive integers, got {self.filters}"
            )
        for index, count in enumerate(self.filters):
            _check_positive(f"filters[{index}]", count)
        _check_positive("kernel_size", self.kernel_size)
        if self.kernel_size % 2 == 0:
            raise ConvscopeError(
                f"model.kernel_size: expected an odd integer, got {self.kernel_size}"
            )
        _check_choice("padding", self.padding, PADDINGS)
        _check_positive("strides", self.strides)
        _check_choice("pool", self.pool, ("none", *POOLINGS))
        _check_choice("activation", self.activation, ACTIVATIONS)
        _check_rate("dropout", self.dropout)
        _check_positive("dense_units", self.dense_units)


# Builder key -> schema. Adding a model: a dataclass here, a builder in registry.py, a YAML.
SCHEMAS: dict[str, type[ModelConfig]] = {
    "dense": DenseConfig,
    "lenet5": LeNet5Config,
    "stacked_conv": StackedConvConfig,
}


def register_configs() -> None:
    """Store each schema in Hydra's ConfigStore as `model/<builder>_schema` (idempotent)."""
    store = ConfigStore.instance()
    for builder, schema in SCHEMAS.items():
        store.store(group="model", name=f"{builder}_schema", node=schema)


def validate_model_config(cfg: DictConfig | dict[str, Any]) -> ModelConfig:
    """Check a composed `model` config against its schema and value rules; return the dataclass.

    Works on a config composed with the schema as well as on a plain mapping (e.g. a config
    read back from a run): the schema is chosen by the `builder` key.
    """
    builder = cfg.get("builder")
    if builder not in SCHEMAS:
        raise ConvscopeError(
            f"model.builder: expected one of {', '.join(SCHEMAS)}, got {builder!r}"
        )
    schema = SCHEMAS[builder]
    known = [f.name for f in fields(schema)]
    # `+model.key=...` adds a key even to a structured config: catch it here.
    for key in cfg:
        if key not in known:
            raise ConvscopeError(
                f"model.{key}: unknown key for builder {builder!r} (known: {', '.join(known)})"
            )
    try:
        typed = OmegaConf.merge(OmegaConf.structured(schema), cfg)
        config = OmegaConf.to_object(typed)
    except OmegaConfBaseException as err:
        raise ConvscopeError(omegaconf_error_line(err, prefix="model")) from err
    assert isinstance(config, ModelConfig)
    return config


def omegaconf_error_line(err: OmegaConfBaseException, prefix: str = "") -> str:
    """Render an OmegaConf error (unknown key, wrong type, missing value) as one line."""
    full_key = getattr(err, "full_key", None) or ""
    key = ".".join(part for part in (prefix, full_key) if part)
    return f"{key}: {first_line(err)}" if key else first_line(err)


def _check_positive(key: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConvscopeError(f"model.{key}: expected a positive integer, got {value}")


def _check_choice(key: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ConvscopeError(f"model.{key}: expected one of {', '.join(choices)}, got {value!r}")


def _check_rate(key: str, value: float) -> None:
    if not 0.0 <= value < 1.0:
        raise ConvscopeError(f"model.{key}: expected a rate in [0, 1), got {value}")
