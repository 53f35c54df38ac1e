"""Optimizer, learning-rate schedule and loss from the `train` config."""

from __future__ import annotations

import keras

from convscope.training.config import TrainConfig


@keras.saving.register_keras_serializable(package="convscope")
class SmoothedSparseCrossentropy(keras.losses.Loss):
    """Cross-entropy against integer labels smoothed towards the uniform distribution.

    The target is `1 - s + s / K` for the true class and `s / K` for the others (K
    classes). Written here because Keras 3's `SparseCategoricalCrossentropy` has no
    `label_smoothing` (only `CategoricalCrossentropy` has, on one-hot labels).
    """

    def __init__(
        self, label_smoothing: float, name: str = "smoothed_sparse_crossentropy", **kwargs
    ) -> None:
        super().__init__(name=name, **kwargs)
        self.label_smoothing = label_smoothing

    def call(self, y_true, y_pred):
        labels = keras.ops.cast(keras.ops.reshape(y_true, (-1,)), "int32")
        one_hot = keras.ops.one_hot(labels, y_pred.shape[-1], dtype=y_pred.dtype)
        return keras.losses.categorical_crossentropy(
            one_hot, y_pred, label_smoothing=self.label_smoothing
        )

    def get_config(self) -> dict:
        return {**super().get_config(), "label_smoothing": self.label_smoothing}


def make_loss(cfg: TrainConfig) -> str | keras.losses.Loss:
    """The training loss: sparse categorical cross-entropy, label-smoothed if configured."""
    if cfg.label_smoothing == 0:
        return "sparse_categorical_crossentropy"
    return SmoothedSparseCrossentropy(cfg.label_smoothing)


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
