"""The training loop: data in, a fitted model and a fully logged MLflow run out."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import keras
import mlflow
import tensorflow as tf

from convscope.atomic import atomic_path
from convscope.console import keras_verbose
from convscope.data.arrays import as_model_input, load_split
from convscope.records.history import HISTORY_FILE, History
from convscope.records.run import MODEL_FILE, RUN_FILE, RunRecord
from convscope.records.seeds import seed_dir
from convscope.report.kernels import feature_maps, kernel_pictures
from convscope.tracking import artifacts, datasets
from convscope.tracking.context import run_tags
from convscope.tracking.failure import failure_tagged
from convscope.tracking.store import connect
from convscope.training.callbacks import (
    EpochTimer,
    HistoryWriter,
    MlflowEpochLogger,
    StopOnNaN,
    early_stopping,
)
from convscope.training.checkpoint import ResumeState, fingerprint
from convscope.training.config import TrainConfig
from convscope.training.optim import make_loss, make_optimizer
from convscope.training.spans import Spans

if TYPE_CHECKING:
    from convscope.config import StageConfig

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainResult:
    """What a finished training produced."""

    run_id: str
    model_dir: Path
    epochs: int
    best_val_accuracy: float
    train_seconds: float
    # Wall-clock seconds of the training's parts: load_data, build_model, log_run_info, fit,
    # figures, log_model, write_outputs (also logged as `time_<part>_seconds` metrics).
    spans: dict[str, float] = field(default_factory=dict)


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


def compiled_model(cfg: StageConfig, train_images: int, **compile_options: object) -> keras.Model:
    """`cfg.model` built and compiled for training on `train_images` images: loss, accuracy,
    the configured optimizer and schedule; `compile_options` add to or replace compile's
    arguments (benchmarks compare variants this way)."""
    train_cfg = cfg.train
    model = cfg.model.build((*cfg.data.image_shape, 1), cfg.data.num_classes)
    options = {
        "optimizer": make_optimizer(train_cfg, -(-train_images // train_cfg.batch_size)),
        "loss": make_loss(train_cfg),
        "metrics": ["accuracy"],
        "steps_per_execution": train_cfg.steps_per_execution,
        **compile_options,
    }
    model.compile(**options)
    return model


def train(cfg: StageConfig, sweep_tags: Mapping[str, str] | None = None) -> TrainResult:
    """Train `cfg.model` with seed `train.seed` on the processed data, log the run to MLflow,
    write the seed's folder of `paths.model_dir` (`convscope.records.seeds.seed_dir`).

    `sweep_tags` are the tags of the sweep job this training is (`convscope.sweeps.job`).
    """
    train_cfg = cfg.train
    configure_tensorflow(train_cfg)
    # First: an unusable store (a tracking server that is down) fails before any work.
    experiment_id = connect(cfg.tracking)
    spans = Spans()

    with spans.span("load_data"):
        processed = Path(cfg.paths.processed)
        meta = datasets.read_source(processed, cfg.data)
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

    with spans.span("build_model"):
        model = compiled_model(cfg, len(x_train))

    seed = train_cfg.seed
    state = ResumeState(seed_dir(Path(cfg.paths.checkpoints), seed), fingerprint(cfg.composed))
    state.align_history()
    resumed_at = state.completed_epochs()
    tracking = cfg.tracking
    sampling_interval = tracking.system_metrics_interval if tracking.system_metrics else None
    if sampling_interval is not None:
        mlflow.set_system_metrics_sampling_interval(sampling_interval)
    name, dataset = str(cfg.model.name), str(cfg.data.name)
    with (
        mlflow.start_run(
            run_id=state.run_id,
            experiment_id=experiment_id,
            run_name=None if state.run_id else f"{name} seed {seed}",
            tags=None if state.run_id else run_tags(name, dataset, sweep_tags, seed=seed),
            log_system_metrics=sampling_interval is not None,
        ) as run,
        failure_tagged(),
    ):
        if resumed_at:
            log.info("Resuming %s at epoch %d of %d", name, resumed_at + 1, train_cfg.epochs)
        else:
            with spans.span("log_run_info"):
                artifacts.log_config(cfg.composed)
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
        with spans.span("fit"):
            model.fit(
                x_train,
                y_train,
                batch_size=train_cfg.batch_size,
                epochs=train_cfg.epochs,
                validation_data=(x_val, y_val),
                callbacks=callbacks,
                verbose=keras_verbose(train_cfg.verbose),
            )

        history = History.read(state.history_path)
        mlflow.log_metrics(
            {
                "best_val_accuracy": history.best_val_accuracy,
                "train_seconds": history.train_seconds,
                "seconds_per_epoch": history.train_seconds / history.epochs,
                "epochs_run": history.epochs,
            }
        )
        with spans.span("figures"):
            artifacts.log_kernels(*kernel_pictures(model, tuple(cfg.data.image_shape)))
            artifacts.log_feature_maps(feature_maps(model, feature_image[0]))
        with spans.span("log_model"):
            model_uri = (
                artifacts.log_keras_model(model, x_val[:2]) if cfg.tracking.log_model else None
            )
        record = RunRecord(
            run_id=run.info.run_id,
            experiment_id=experiment_id,
            tracking_uri=str(cfg.tracking.uri),
            model_uri=model_uri,
            epochs=history.epochs,
            best_val_accuracy=history.best_val_accuracy,
            train_seconds=history.train_seconds,
            seconds_per_epoch=history.train_seconds / history.epochs,
        )
        model_dir = seed_dir(Path(cfg.paths.model_dir), seed)
        with spans.span("write_outputs"):
            write_outputs(model_dir, model, history, record)
            mlflow.log_artifact(str(model_dir / HISTORY_FILE))
        mlflow.log_metrics(spans.metrics())
    state.clear()
    with contextlib.suppress(OSError):  # the model's folder, once no seed's state is left in it
        Path(cfg.paths.checkpoints).rmdir()
    return TrainResult(
        run_id=record.run_id,
        model_dir=model_dir,
        epochs=record.epochs,
        best_val_accuracy=history.best_val_accuracy,
        train_seconds=record.train_seconds,
        spans=dict(spans.seconds),
    )


def write_outputs(model_dir: Path, model: keras.Model, history: History, record: RunRecord) -> None:
    """Write `model.keras`, `history.csv` and `run.json` (the MLflow run) atomically."""
    with atomic_path(model_dir / MODEL_FILE) as tmp:
        model.save(tmp)
    history.write(model_dir / HISTORY_FILE)
    record.write(model_dir / RUN_FILE)
