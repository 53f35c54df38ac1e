"""The `evaluate` and `compare` config groups (`conf/<group>/default.yaml`) as checked
dataclasses."""

from __future__ import annotations

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
class CompareConfig:
    """How the compare stage draws its figures (see `conf/compare/default.yaml`)."""

    gallery_max_tiles: int
    figure_dpi: int


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
    return CompareConfig(
        gallery_max_tiles=_integer(cfg, "compare.gallery_max_tiles", minimum=1),
        figure_dpi=_integer(cfg, "compare.figure_dpi", minimum=1),
    )


def _integer(node: DictConfig, key: str, minimum: int) -> int:
    """`node[last part of key]` if it is an integer >= minimum; `key` names it in errors."""
    value = node.get(key.rsplit(".", 1)[-1])
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        expected = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
        raise ConvscopeError(f"{key}: expected {expected}, got {value!r}")
    return value
