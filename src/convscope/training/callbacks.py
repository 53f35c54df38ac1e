"""Keras callbacks of the training loop: timing, per-epoch history on disk, MLflow metrics,
resume state, early stopping; `training_callbacks` puts them together in their order."""

from __future__ import annotations

import logging
import math
import time
from pathlib import Path

import keras
import mlflow

from convscope.records.history import History
from convscope.tracking.spool import MetricSpool
from convscope.tracking.unavailable import server_unreachable
from convscope.training.checkpoint import ResumeState
from convscope.training.config import EarlyStoppingConfig, TrainConfig

UNLOGGED_FILE = "unlogged-metrics.jsonl"  # in the checkpoint folder, outside DVC's outputs

log = logging.getLogger(__name__)


class EpochTimer(keras.callbacks.Callback):
    """Adds `epoch_seconds` and `images_per_second` to each epoch's logs."""

    def __init__(self, images_per_epoch: int) -> None:
        super().__init__()
        self.images_per_epoch = images_per_epoch
        self._start = 0.0

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if logs is None:
            return
        seconds = time.perf_counter() - self._start
        logs["epoch_seconds"] = seconds
        logs["images_per_second"] = self.images_per_epoch / seconds


class HistoryWriter(keras.callbacks.Callback):
    """Appends each epoch's logs to a CSV, so a resumed training keeps its earlier epochs."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        History.append(self.path, epoch + 1, logs or {})


class MlflowEpochLogger(keras.callbacks.Callback):
    """Logs each epoch's metrics to the active MLflow run (step = epoch number, from 1).

    Each epoch's metrics go through `spool` (a file in the checkpoint folder) and are logged
    from there, so a tracking server that does not answer, even after MLflow's retries, loses
    nothing: training goes on with a warning, and the metrics are logged with their own step
    and time at a later epoch, at the end of training, or by the run that resumes it. The
    training does not end while metrics are waiting: it fails, keeping its checkpoint.
    """

    def __init__(self, spool: MetricSpool) -> None:
        super().__init__()
        self.spool = spool
        self.run_id = ""

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.run_id = mlflow.active_run().info.run_id
        self._flush("from an earlier interrupted run")

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        metrics = {key: float(value) for key, value in (logs or {}).items()}
        metrics["learning_rate"] = float(self.model.optimizer.learning_rate)
        self.spool.add(self.run_id, metrics, step=epoch + 1)
        self._flush(f"of epoch {epoch + 1}")

    def on_train_end(self, logs: dict | None = None) -> None:
        if self.spool.entries():
            self.spool.replay()  # a server still away fails the training here

    def _flush(self, which: str) -> None:
        try:
            self.spool.replay()
        except Exception as err:
            if not server_unreachable(err):
                raise
            log.warning(
                "The MLflow tracking server did not answer; the metrics %s wait in %s and are "
                "logged once it answers",
                which,
                self.spool.path,
            )


class StopOnNaN(keras.callbacks.Callback):
    """Fails the training with a clear message when an epoch's loss is NaN or infinite.

    Checked per epoch, not per batch: a per-batch hook would force a device sync every step.
    """

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            raise FloatingPointError(f"training loss became {float(loss)} in epoch {epoch + 1}")


def early_stopping(cfg: EarlyStoppingConfig) -> list[keras.callbacks.Callback]:
    """Keras' EarlyStopping as configured, or nothing when it is disabled."""
    if not cfg.enabled:
        return []
    return [
        keras.callbacks.EarlyStopping(
            monitor=cfg.monitor,
            patience=cfg.patience,
            restore_best_weights=cfg.restore_best_weights,
            mode="auto",
        )
    ]


def training_callbacks(
    settings: TrainConfig, state: ResumeState, images_per_epoch: int
) -> list[keras.callbacks.Callback]:
    """Every callback of one training, in order: epoch timing, NaN check, the history row
    and MLflow metrics of each epoch, Keras' resume backup in `state`, early stopping."""
    return [
        EpochTimer(images_per_epoch),
        StopOnNaN(),
        HistoryWriter(state.history_path),
        MlflowEpochLogger(MetricSpool(state.folder / UNLOGGED_FILE)),
        # After the history is written, so a kill between the two loses no history row. Kept
        # after training (the trainer clears the state once everything is written and logged),
        # so a stage failing after fit (full disk, tracking server away) resumes with nothing
        # left to train.
        keras.callbacks.BackupAndRestore(str(state.backup_dir), delete_checkpoint=False),
        *early_stopping(settings.early_stopping),
    ]
