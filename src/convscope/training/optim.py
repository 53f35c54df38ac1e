"""Optimizer and learning-rate schedule from the `train` config."""

from __future__ import annotations

import keras

from convscope.training.config import TrainConfig


def learning_rate(
    cfg: TrainConfig, steps_per_epoch: int
) -> float | keras.optimizers.schedules.LearningRateSchedule:
    """The configured learning rate: a constant or a schedule over optimizer steps."""
    if cfg.schedule == "cosine":
        total_steps = cfg.epochs * steps_per_epoch
        if cfg.warmup_epochs == 0:
            return keras.optimizers.schedules.CosineDecay(cfg.learning_rate, total_steps)
        # Linear from 0 to the configured rate, then cosine to 0 by the end of the last epoch.
        warmup_steps = round(cfg.warmup_epochs * steps_per_epoch)
        return keras.optimizers.schedules.CosineDecay(
            0.0,
            decay_steps=max(1, total_steps - warmup_steps),
            warmup_target=cfg.learning_rate,
            warmup_steps=warmup_steps,
        )
    if cfg.schedule == "exponential":
        return keras.optimizers.schedules.ExponentialDecay(
            cfg.learning_rate, decay_steps=steps_per_epoch, decay_rate=cfg.decay_rate
        )
    return cfg.learning_rate


def make_optimizer(cfg: TrainConfig, steps_per_epoch: int) -> keras.optimizers.Optimizer:
    """Build the configured optimizer with its learning-rate schedule."""
    lr = learning_rate(cfg, steps_per_epoch)
    if cfg.optimizer == "adamw":
        return keras.optimizers.AdamW(learning_rate=lr, weight_decay=cfg.weight_decay)
    if cfg.optimizer == "sgd":
        return keras.optimizers.SGD(learning_rate=lr, momentum=cfg.momentum, nesterov=True)
    if cfg.optimizer == "rmsprop":
        return keras.optimizers.RMSprop(learning_rate=lr)
    return keras.optimizers.Adam(learning_rate=lr)
