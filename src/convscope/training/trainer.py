"""The training loop: data in, a fitted model and a fully logged MLflow run out."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import keras
import mlflow
import numpy as np
import pandas as pd
import tensorflow as tf
from omegaconf import DictConfig

from convscope.atomic import atomic_path, write_json
from convscope.console import keras_verbose
from convscope.data.arrays import load_split
from convscope.models.config import validate_model_config
from convscope.models.registry import build_model
from convscope.tracking import artifacts, datasets
from convscope.tracking.context import run_tags
from convscope.tracking.failure import failure_tagged
from convscope.tracking.store import connect
from convscope.tracking.system_metrics import system_metrics_interval
from convscope.training.callbacks import (
    EpochTimer,
    HistoryWriter,
    MlflowEpochLogger,
    StopOnNaN,
    early_stopping,
)
from convscope.training.checkpoint import ResumeState, fingerprint
from convscope.training.config import TrainConfig, validate_train_config
from convscope.training.optim import make_loss, make_optimizer

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainResult:
    """What a finished training produced."""

    run_id: str
    model_dir: Path
    epochs: int
    best_val_accuracy: float
    train_seconds: float


def as_model_input(images: np.ndarray) -> np.ndarray:
    """uint8 images (N, H, W) as the float32 (N, H, W, 1) raw-pixel input the models take."""
    return images.astype("float32")[..., np.newaxis]


def configure_tensorflow(cfg: TrainConfig) -> None:
    """Seed every generator, reset Keras' state and apply thread and determinism settings.

    Called before every training: Hydra's basic launcher runs multirun jobs in one process.
    """
    keras.backend.clear_session()
    keras.utils.set_random_seed(cfg.seed)
    threading = tf.config.threading
    try:
        threading.set_intra_op_parallelism_threads(cfg.threads.intra_op)
        threading.set_inter_op_parallelism_threads(cfg.threads.inter_op)
    except RuntimeError:
        # TensorFlow fixes its pools at first use; later jobs in one process keep them.
        if (cfg.threads.intra_op, cfg.threads.inter_op) != (
            threading.get_intra_op_parallelism_threads(),
            threading.get_inter_op_parallelism_threads(),
        ):
            log.warning("Thread settings apply only to the first training in a process")
    if cfg.deterministic:
        tf.config.experimental.enable_op_determinism()


def compiled_model(cfg: DictConfig, train_images: int, **compile_options: object) -> keras.Model:
    """`cfg.model` built and compiled for training on `train_images` images: loss, accuracy,
    the configured optimizer and schedule; `compile_options` add to or replace compile's
    arguments (benchmarks compare variants this way)."""
    train_cfg = validate_train_config(cfg.train)
    model = build_model(cfg.model, (*cfg.data.image_shape, 1), int(cfg.data.num_classes))
    options = {
        "optimizer": make_optimizer(train_cfg, -(-train_images // train_cfg.batch_size)),
        "loss": make_loss(train_cfg),
        "metrics": ["accuracy"],
        "steps_per_execution": train_cfg.steps_per_execution,
        **compile_options,
    }
    model.compile(**options)
    return model


def train(cfg: DictConfig) -> TrainResult:
    """Train `cfg.model` on the processed data, log the run to MLflow, write `paths.model_dir`."""
    validate_model_config(cfg.model)
    train_cfg = validate_train_config(cfg.train)
    configure_tensorflow(train_cfg)
    # First: an unusable store (a tracking server that is down) fails before any work.
    experiment_id = connect(cfg.tracking)

    processed = Path(cfg.paths.processed)
    meta = datasets.read_source(processed)
    x_train, y_train = load_split(processed, "train")
    if train_cfg.subset is not None:
        x_train, y_train = x_train[: train_cfg.subset], y_train[: train_cfg.subset]
    x_val, y_val = load_split(processed, "val")
    inputs = [
        datasets.split_input(meta, "train", x_train, y_train, train_cfg.subset),
        datasets.split_input(meta, "val", x_val, y_val),
    ]
    x_test, _ = load_split(processed, "test")
    x_train, x_val = as_model_input(x_train), as_model_input(x_val)
    feature_image = as_model_input(x_test[[cfg.tracking.feature_map_image]])

    model = compiled_model(cfg, len(x_train))

    state = ResumeState(Path(cfg.paths.checkpoints), fingerprint(cfg))
    state.align_history()
    resumed_at = state.completed_epochs()
    sampling_interval = system_metrics_interval(cfg.tracking)
    if sampling_interval is not None:
        mlflow.set_system_metrics_sampling_interval(sampling_interval)
    with (
        mlflow.start_run(
            run_id=state.run_id,
            experiment_id=experiment_id,
            run_name=None if state.run_id else str(cfg.model.name),
            tags=None if state.run_id else run_tags(str(cfg.model.name), str(cfg.data.name)),
            log_system_metrics=sampling_interval is not None,
        ) as run,
        failure_tagged(),
    ):
        if resumed_at:
            log.info(
                "Resuming %s at epoch %d of %d", cfg.model.name, resumed_at + 1, train_cfg.epochs
            )
        else:
            artifacts.log_config(cfg)
            artifacts.log_parameter_counts(model)
            datasets.log_inputs(inputs)
        state.save_run_id(run.info.run_id)

        callbacks: list[keras.callbacks.Callback] = [
            EpochTimer(images_per_epoch=len(x_train)),
            StopOnNaN(),
            HistoryWriter(state.history_path),
            MlflowEpochLogger(),
            # After the history is written, so a kill between the two loses no history row.
            keras.callbacks.BackupAndRestore(str(state.backup_dir)),
            *early_stopping(train_cfg.early_stopping),
        ]
        model.fit(
            x_train,
            y_train,
            batch_size=train_cfg.batch_size,
            epochs=train_cfg.epochs,
            validation_data=(x_val, y_val),
            callbacks=callbacks,
            verbose=keras_verbose(train_cfg.verbose),
        )

        history = pd.read_csv(state.history_path)
        result = TrainResult(
            run_id=run.info.run_id,
            model_dir=Path(cfg.paths.model_dir),
            epochs=int(history["epoch"].max()),
            best_val_accuracy=float(history["val_accuracy"].max()),
            train_seconds=float(history["epoch_seconds"].sum()),
        )
        mlflow.log_metrics(
            {
                "best_val_accuracy": result.best_val_accuracy,
                "train_seconds": result.train_seconds,
                "seconds_per_epoch": result.train_seconds / result.epochs,
                "epochs_run": result.epochs,
            }
        )
        artifacts.log_kernels(model, tuple(cfg.data.image_shape))
        artifacts.log_feature_maps(model, feature_image[0])
        model_uri = artifacts.log_keras_model(model, x_val[:2]) if cfg.tracking.log_model else None
        write_outputs(result, model, history, model_uri, experiment_id, str(cfg.tracking.uri))
        mlflow.log_artifact(str(result.model_dir / "history.csv"))
    state.clear()
    return result


def write_outputs(
    result: TrainResult,
    model: keras.Model,
    history: pd.DataFrame,
    model_uri: str | None,
    experiment_id: str,
    tracking_uri: str,
) -> None:
    """Write `model.keras`, `history.csv` and `run.json` (the MLflow run) atomically."""
    with atomic_path(result.model_dir / "model.keras") as tmp:
        model.save(tmp)
    with atomic_path(result.model_dir / "history.csv") as tmp:
        history.to_csv(tmp, index=False)
    write_json(
        result.model_dir / "run.json",
        {
            "run_id": result.run_id,
            "experiment_id": experiment_id,
            "tracking_uri": tracking_uri,
            "model_uri": model_uri,
            "epochs": result.epochs,
            "best_val_accuracy": result.best_val_accuracy,
            "train_seconds": result.train_seconds,
            "seconds_per_epoch": result.train_seconds / result.epochs,
        },
    )
