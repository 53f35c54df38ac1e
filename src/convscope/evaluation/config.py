"""Schema of the `evaluate` config group (`conf/evaluate/*.yaml`): types and checks that name
the bad key; every value lives in the YAML."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from omegaconf import MISSING

from convscope.console import check_verbose
from convscope.errors import ConvscopeError


@dataclass
class TimingConfig:
    """How latency (batch size 1) and throughput (`throughput_batch_size`) are measured."""

    warmup: int = MISSING
    repeats: int = MISSING
    latency_calls: int = MISSING
    throughput_batch_size: int = MISSING
    throughput_batches: int = MISSING

    def __post_init__(self) -> None:
        _check_at_least("evaluate.timing.warmup", self.warmup, 0)
        for key in ("repeats", "latency_calls", "throughput_batch_size", "throughput_batches"):
            _check_at_least(f"evaluate.timing.{key}", getattr(self, key), 1)


@dataclass
class EvaluateConfig:
    """Everything the evaluate stage can be told."""

    batch_size: int = MISSING
    misclassified: int = MISSING
    verbose: Any = MISSING  # auto | 0 | 1 | 2, see convscope.console (OmegaConf has no unions)
    timing: TimingConfig = MISSING

    def __post_init__(self) -> None:
        _check_at_least("evaluate.batch_size", self.batch_size, 1)
        _check_at_least("evaluate.misclassified", self.misclassified, 0)
        check_verbose("evaluate.verbose", self.verbose)


def _check_at_least(key: str, value: int, minimum: int) -> None:
    if value < minimum:
        expected = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
        raise ConvscopeError(f"{key}: expected {expected}, got {value!r}")
