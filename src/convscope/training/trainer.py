"""The training loop: data in, a fitted model and a fully logged MLflow run out."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras
import mlflow
import numpy as np
import tensorflow as tf

from convscope.atomic import atomic_path
from convscope.console import keras_verbose
from convscope.data.arrays import as_model_input, load_split
from convscope.data.config import DataConfig
from convscope.models.config import ModelConfig
from convscope.paths import PathsConfig
from convscope.records.history import HISTORY_FILE, History
from convscope.records.run import MODEL_FILE, RUN_FILE, RunRecord
from convscope.records.seeds import seed_dir
from convscope.report.kernels import feature_maps, kernel_pictures
from convscope.tracking import artifacts, datasets
from convscope.tracking.config import TrackingConfig
from convscope.tracking.run import training_run
from convscope.tracking.store import connect
from convscope.training.callbacks import training_callbacks
from convscope.training.checkpoint import ResumeState, fingerprint
from convscope.training.config import TrainConfig
from convscope.training.optim import make_loss, make_optimizer
from convscope.training.spans import Spans

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainingData:
    """The arrays of one training: train and validation splits as the model takes them, the
    test image whose feature maps are logged, and the splits' MLflow dataset inputs."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    feature_image: np.ndarray
    inputs: list[datasets.DatasetInput]


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


def load_training_data(
    processed: Path, data: DataConfig, subset: int | None, feature_map_image: int
) -> TrainingData:
    """The processed train split of `data` (its first `subset` images, if set), the validation
    split and test image `feature_map_image`, with their dataset inputs."""
    meta = datasets.read_source(processed, data)
    x_train, y_train = load_split(processed, "train")
    if subset is not None:
        x_train, y_train = x_train[:subset], y_train[:subset]
    x_val, y_val = load_split(processed, "val")
    inputs = [
        datasets.split_input(meta, "train", x_train, y_train, subset),
        datasets.split_input(meta, "val", x_val, y_val),
    ]
    x_test, _ = load_split(processed, "test")
    feature_image = as_model_input(x_test[[feature_map_image]])[0]
    return TrainingData(
        as_model_input(x_train), y_train, as_model_input(x_val), y_val, feature_image, inputs
    )


def compiled_model(
    model: ModelConfig,
    data: DataConfig,
    settings: TrainConfig,
    train_images: int,
    **compile_options: object,
) -> keras.Model:
    """`model` built for `data` and compiled for training on `train_images` images: loss,
    accuracy, the configured optimizer and schedule; `compile_options` add to or replace
    compile's arguments (benchmarks compare variants this way)."""
    built = model.build((*data.image_shape, 1), data.num_classes)
    options = {
        "optimizer": make_optimizer(settings, -(-train_images // settings.batch_size)),
        "loss": make_loss(settings),
        "metrics": ["accuracy"],
        "steps_per_execution": settings.steps_per_execution,
        **compile_options,
    }
    built.compile(**options)
    return built


def train(
    model: ModelConfig,
    data: DataConfig,
    settings: TrainConfig,
    tracking: TrackingConfig,
    paths: PathsConfig,
    *,
    params: Mapping[str, Any],
    group_tags: Mapping[str, str] | None = None,
    split: TrainingData | None = None,
) -> RunRecord:
    """Train `model` on `data` with seed `settings.seed`, log the run to MLflow (`params`, the
    run's whole config, as its params), write the seed's folder of the model's folder
    (`model.keras`, `history.csv`, `run.json`) and return its record.

    `group_tags` are the tags that group the run with others: a sweep job's
    (`convscope.sweeps.job`) or a study condition's (`convscope.studies`). `split` replaces the
    processed dataset's train and validation splits (a study's permuted or subset images).
    An interrupted training with the same data, model and train config resumes.
    """
    configure_tensorflow(settings)
    experiment_id = connect(tracking)  # first: an unusable store fails before any work
    spans = Spans()
    with spans.span("load_data"):
        if split is None:
            split = load_training_data(
                Path(paths.processed), data, settings.subset, tracking.feature_map_image
            )
    with spans.span("build_model"):
        keras_model = compiled_model(model, data, settings, len(split.x_train))
    checkpoints = paths.checkpoint_dir(model.name)
    state = ResumeState(seed_dir(checkpoints, settings.seed), fingerprint(data, model, settings))
    state.align_history()
    resumed_at = state.completed_epochs()
    with training_run(
        tracking,
        experiment_id,
        model.name,
        data.name,
        settings.seed,
        resume_run_id=state.run_id,
        group_tags=group_tags,
    ) as run:
        if resumed_at:
            log.info("Resuming %s at epoch %d of %d", model.name, resumed_at + 1, settings.epochs)
        else:
            with spans.span("log_run_info"):
                artifacts.log_config(params)
                artifacts.log_parameter_counts(keras_model)
                datasets.log_inputs(split.inputs)
        state.save_run_id(run.info.run_id)
        with spans.span("fit"):
            keras_model.fit(
                split.x_train,
                split.y_train,
                batch_size=settings.batch_size,
                epochs=settings.epochs,
                validation_data=(split.x_val, split.y_val),
                callbacks=training_callbacks(settings, state, len(split.x_train)),
                verbose=keras_verbose(settings.verbose),
            )
        history = History.read(state.history_path)
        record = RunRecord.finished(history, run.info.run_id, experiment_id, str(tracking.uri))
        mlflow.log_metrics(record.metrics())
        if tracking.log_pictures:
            with spans.span("figures"):
                artifacts.log_kernels(*kernel_pictures(keras_model, tuple(data.image_shape)))
                artifacts.log_feature_maps(feature_maps(keras_model, split.feature_image))
        with spans.span("log_model"):
            if tracking.log_model:
                uri = artifacts.log_keras_model(keras_model, split.x_val[:2])
                record = dataclasses.replace(record, model_uri=uri)
        with spans.span("write_outputs"):
            model_dir = seed_dir(paths.model_dir(model.name), settings.seed)
            write_outputs(model_dir, keras_model, history, record)
            mlflow.log_artifact(str(model_dir / HISTORY_FILE))
        mlflow.log_metrics(spans.metrics())
    state.clear()
    with contextlib.suppress(OSError):  # the model's folder, once no seed's state is left in it
        checkpoints.rmdir()
    return record


def write_outputs(model_dir: Path, model: keras.Model, history: History, record: RunRecord) -> None:
    """Write `model.keras`, `history.csv` and `run.json` (the MLflow run) atomically."""
    with atomic_path(model_dir / MODEL_FILE) as tmp:
        model.save(tmp)
    history.write(model_dir / HISTORY_FILE)
    record.write(model_dir / RUN_FILE)
