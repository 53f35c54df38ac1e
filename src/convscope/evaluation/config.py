"""The `evaluate` and `compare` config groups (`conf/<group>/default.yaml`) as checked
dataclasses."""

from __future__ import annotations

import string
from dataclasses import dataclass

from omegaconf import DictConfig

from convscope.console import check_verbose
from convscope.errors import ConvscopeError


@dataclass(frozen=True)
class TimingConfig:
    """How latency (batch size 1) and throughput (`throughput_batch_size`) are measured."""

    warmup: int
    repeats: int
    latency_calls: int
    throughput_batch_size: int
    throughput_batches: int


@dataclass(frozen=True)
class EvaluateConfig:
    """Everything the evaluate stage can be told (see `conf/evaluate/default.yaml`)."""

    batch_size: int
    misclassified: int
    verbose: str | int  # auto | 0 | 1 | 2 (convscope.console)
    timing: TimingConfig


@dataclass(frozen=True)
class RegistryConfig:
    """Whether and under which names the compare stage registers the models.

    `model_name` and `champion_name` are `str.format` patterns over `dataset` and `model`.
    """

    enabled: bool
    model_name: str
    champion_name: str

    def model(self, dataset: str, model: str) -> str:
        """The registered model holding every version of architecture `model`."""
        return self.model_name.format(dataset=dataset, model=model)

    def champion(self, dataset: str) -> str:
        """The registered model whose alias `champion` is the dataset's most accurate model."""
        return self.champion_name.format(dataset=dataset)


@dataclass(frozen=True)
class CompareConfig:
    """How the compare stage draws its figures and registers the models (see
    `conf/compare/default.yaml`)."""

    gallery_max_tiles: int
    figure_dpi: int
    registry: RegistryConfig


def evaluate_config(cfg: DictConfig) -> EvaluateConfig:
    """Check `cfg` (the composed `evaluate` group); raise `ConvscopeError` naming a bad key."""
    timing = cfg.get("timing")
    if not isinstance(timing, DictConfig):
        raise ConvscopeError(f"evaluate.timing: expected a mapping, got {timing!r}")
    check_verbose("evaluate.verbose", cfg.get("verbose"))
    return EvaluateConfig(
        batch_size=_integer(cfg, "evaluate.batch_size", minimum=1),
        misclassified=_integer(cfg, "evaluate.misclassified", minimum=0),
        verbose=cfg.verbose,
        timing=TimingConfig(
            warmup=_integer(timing, "evaluate.timing.warmup", minimum=0),
            repeats=_integer(timing, "evaluate.timing.repeats", minimum=1),
            latency_calls=_integer(timing, "evaluate.timing.latency_calls", minimum=1),
            throughput_batch_size=_integer(
                timing, "evaluate.timing.throughput_batch_size", minimum=1
            ),
            throughput_batches=_integer(timing, "evaluate.timing.throughput_batches", minimum=1),
        ),
    )


def compare_config(cfg: DictConfig) -> CompareConfig:
    """Check `cfg` (the composed `compare` group); raise `ConvscopeError` naming a bad key."""
    registry = cfg.get("registry")
    if not isinstance(registry, DictConfig):
        raise ConvscopeError(f"compare.registry: expected a mapping, got {registry!r}")
    enabled = registry.get("enabled")
    if not isinstance(enabled, bool):
        raise ConvscopeError(f"compare.registry.enabled: expected true or false, got {enabled!r}")
    return CompareConfig(
        gallery_max_tiles=_integer(cfg, "compare.gallery_max_tiles", minimum=1),
        figure_dpi=_integer(cfg, "compare.figure_dpi", minimum=1),
        registry=RegistryConfig(
            enabled=enabled,
            model_name=_name_pattern(registry, "compare.registry.model_name", {"dataset", "model"}),
            champion_name=_name_pattern(registry, "compare.registry.champion_name", {"dataset"}),
        ),
    )


def _name_pattern(node: DictConfig, key: str, fields: set[str]) -> str:
    """`node[last part of key]` if it is a name pattern using exactly `fields` ({dataset}...)."""
    value = node.get(key.rsplit(".", 1)[-1])
    expected = " and ".join(f"{{{field}}}" for field in sorted(fields))
    try:
        used = {field for _, field, _, _ in string.Formatter().parse(value) if field is not None}
    except (TypeError, AttributeError, ValueError):
        used = None
    if used != fields:
        raise ConvscopeError(f"{key}: expected a name pattern with {expected}, got {value!r}")
    return value


def _integer(node: DictConfig, key: str, minimum: int) -> int:
    """`node[last part of key]` if it is an integer >= minimum; `key` names it in errors."""
    value = node.get(key.rsplit(".", 1)[-1])
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        expected = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
        raise ConvscopeError(f"{key}: expected {expected}, got {value!r}")
    return value
