"""Structured schema of the `train` config group, with checks that name the bad key."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hydra.core.config_store import ConfigStore
from omegaconf import DictConfig, OmegaConf

from convscope.console import check_verbose
from convscope.errors import ConvscopeError

OPTIMIZERS = ("adam", "adamw", "sgd", "rmsprop")
SCHEDULES = ("constant", "cosine", "exponential")


@dataclass
class EarlyStoppingConfig:
    """Stop when the validation metric has not improved for `patience` epochs."""

    enabled: bool = True
    monitor: str = "val_accuracy"
    patience: int = 3
    restore_best_weights: bool = True


@dataclass
class ThreadsConfig:
    """TensorFlow thread pools; 0 lets TensorFlow choose (one per core)."""

    intra_op: int = 0
    inter_op: int = 0


@dataclass
class TrainConfig:
    """Everything about how a model is fitted (the model itself is the `model` group)."""

    optimizer: str = "adam"
    learning_rate: float = 1e-3
    schedule: str = "constant"
    warmup_epochs: float = 0.0
    decay_rate: float = 0.5
    weight_decay: float = 0.0
    momentum: float = 0.9
    label_smoothing: float = 0.0
    batch_size: int = 128
    epochs: int = 10
    steps_per_execution: int = 1
    early_stopping: EarlyStoppingConfig = field(default_factory=EarlyStoppingConfig)
    seed: int = 42
    deterministic: bool = False
    subset: int | None = None
    verbose: Any = "auto"  # auto | 0 | 1 | 2, see convscope.console (OmegaConf has no unions)
    threads: ThreadsConfig = field(default_factory=ThreadsConfig)

    def __post_init__(self) -> None:
        es, th = self.early_stopping, self.threads
        checks = [
            ("optimizer", self.optimizer, self.optimizer in OPTIMIZERS, f"one of {OPTIMIZERS}"),
            ("learning_rate", self.learning_rate, self.learning_rate > 0, "a positive number"),
            ("schedule", self.schedule, self.schedule in SCHEDULES, f"one of {SCHEDULES}"),
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
            ("epochs", self.epochs, self.epochs >= 1, "a positive integer"),
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


def register_train_config() -> None:
    """Register the schema that `conf/train/*.yaml` extend (idempotent)."""
    ConfigStore.instance().store(group="train", name="train_schema", node=TrainConfig)


def validate_train_config(cfg: DictConfig) -> TrainConfig:
    """Return the train config as a checked `TrainConfig`; raises `ConvscopeError` if invalid."""
    return OmegaConf.to_object(cfg)
