"""Schema of the `train` config group (`conf/train/*.yaml`): types and checks that name the
bad key; every value lives in the YAML."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from omegaconf import MISSING

from convscope.console import check_verbose
from convscope.errors import ConvscopeError

OPTIMIZERS = ("adam", "adamw", "sgd", "rmsprop")
SCHEDULES = ("constant", "cosine", "exponential")


@dataclass
class EarlyStoppingConfig:
    """Stop when the validation metric has not improved for `patience` epochs."""

    enabled: bool = MISSING
    monitor: str = MISSING
    patience: int = MISSING
    restore_best_weights: bool = MISSING


@dataclass
class ThreadsConfig:
    """TensorFlow thread pools; 0 lets TensorFlow choose (one per core)."""

    intra_op: int = MISSING
    inter_op: int = MISSING


@dataclass
class TrainConfig:
    """Everything about how a model is fitted (the model itself is the `model` group)."""

    optimizer: str = MISSING
    learning_rate: float = MISSING
    schedule: str = MISSING
    warmup_epochs: float = MISSING
    decay_rate: float = MISSING
    weight_decay: float = MISSING
    momentum: float = MISSING
    label_smoothing: float = MISSING
    batch_size: int = MISSING
    epochs: int = MISSING
    steps_per_execution: int = MISSING
    early_stopping: EarlyStoppingConfig = MISSING
    seed: int = MISSING
    deterministic: bool = MISSING
    subset: int | None = MISSING
    verbose: Any = MISSING  # auto | 0 | 1 | 2, see convscope.console (OmegaConf has no unions)
    threads: ThreadsConfig = MISSING

    def __post_init__(self) -> None:
        es, th = self.early_stopping, self.threads
        checks = [
            ("optimizer", self.optimizer, self.optimizer in OPTIMIZERS, f"one of {OPTIMIZERS}"),
            ("learning_rate", self.learning_rate, self.learning_rate > 0, "a positive number"),
            ("schedule", self.schedule, self.schedule in SCHEDULES, f"one of {SCHEDULES}"),
            # before warmup_epochs, whose range it sets
            ("epochs", self.epochs, self.epochs >= 1, "a positive integer"),
            (
                "warmup_epochs",
                self.warmup_epochs,
                self.warmup_epochs == 0
                or (self.schedule == "cosine" and 0 < self.warmup_epochs < self.epochs),
                "0, or with schedule cosine a number in (0, epochs)",
            ),
            ("decay_rate", self.decay_rate, 0 < self.decay_rate <= 1, "a number in (0, 1]"),
            ("weight_decay", self.weight_decay, self.weight_decay >= 0, "a number >= 0"),
            ("momentum", self.momentum, 0 <= self.momentum < 1, "a number in [0, 1)"),
            (
                "label_smoothing",
                self.label_smoothing,
                0 <= self.label_smoothing < 1,
                "a number in [0, 1)",
            ),
            ("batch_size", self.batch_size, self.batch_size >= 1, "a positive integer"),
            (
                "steps_per_execution",
                self.steps_per_execution,
                self.steps_per_execution >= 1,
                "a positive integer",
            ),
            ("early_stopping.patience", es.patience, es.patience >= 0, "an integer >= 0"),
            (
                "subset",
                self.subset,
                self.subset is None or self.subset >= 1,
                "null or a positive integer",
            ),
            ("threads.intra_op", th.intra_op, th.intra_op >= 0, "an integer >= 0"),
            ("threads.inter_op", th.inter_op, th.inter_op >= 0, "an integer >= 0"),
        ]
        check_verbose("train.verbose", self.verbose)
        for key, value, ok, expected in checks:
            if not ok:
                raise ConvscopeError(f"train.{key}: expected {expected}, got {value!r}")
