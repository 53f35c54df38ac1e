"""The `evaluate` config group (`conf/evaluate/default.yaml`) as checked dataclasses."""

from __future__ import annotations

from dataclasses import dataclass

from omegaconf import DictConfig

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
    verbose: int
    timing: TimingConfig


def evaluate_config(cfg: DictConfig) -> EvaluateConfig:
    """Check `cfg` (the composed `evaluate` group); raise `ConvscopeError` naming a bad key."""
    timing = cfg.get("timing")
    if not isinstance(timing, DictConfig):
        raise ConvscopeError(f"evaluate.timing: expected a mapping, got {timing!r}")
    return EvaluateConfig(
        batch_size=_integer(cfg, "batch_size", minimum=1),
        misclassified=_integer(cfg, "misclassified", minimum=0),
        verbose=_integer(cfg, "verbose", minimum=0),
        timing=TimingConfig(
            warmup=_integer(timing, "warmup", minimum=0, prefix="timing."),
            repeats=_integer(timing, "repeats", minimum=1, prefix="timing."),
            latency_calls=_integer(timing, "latency_calls", minimum=1, prefix="timing."),
            throughput_batch_size=_integer(
                timing, "throughput_batch_size", minimum=1, prefix="timing."
            ),
            throughput_batches=_integer(timing, "throughput_batches", minimum=1, prefix="timing."),
        ),
    )


def _integer(node: DictConfig, key: str, minimum: int, prefix: str = "") -> int:
    value = node.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        expected = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
        raise ConvscopeError(f"evaluate.{prefix}{key}: expected {expected}, got {value!r}")
    return value
