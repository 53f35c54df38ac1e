"""The evaluate stage's work: each seed of one trained model measured on the test set, results
written to `reports/` and logged into that seed's MLflow training run; then the model's
summary over its seeds, the DVC metrics file."""

from __future__ import annotations

import logging
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
import pandas as pd
from mlflow.entities import Metric
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from convscope.atomic import atomic_path, write_text
from convscope.console import keras_verbose
from convscope.data.arrays import as_model_input, load_split
from convscope.data.config import DataConfig
from convscope.errors import ConvscopeError
from convscope.evaluation.config import EvaluateConfig
from convscope.evaluation.metrics import (
    confusion_matrix,
    confusion_pairs,
    cross_entropy,
    per_class_table,
)
from convscope.evaluation.misclassified import most_confident_mistakes
from convscope.evaluation.timing import compiled_forward, latency_ms, throughput
from convscope.models.anatomy import anatomy_markdown, layer_anatomy
from convscope.models.layers import layer_table, parameter_summary
from convscope.models.trained import load_trained_model
from convscope.paths import PathsConfig
from convscope.records.metrics import (
    PREDICTIONS_FILE,
    RECORD_FILE,
    EvaluationRecord,
    MetricsSummary,
    evaluation_dir,
    metrics_path,
)
from convscope.records.run import MODEL_FILE, RUN_FILE, RunRecord
from convscope.records.seeds import seed_dir, seed_dirs
from convscope.report import save_figure
from convscope.report.model_figures import confusion_matrix_figure, misclassified_grid
from convscope.tracking import datasets
from convscope.tracking.config import TrackingConfig
from convscope.tracking.store import connect

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EvaluationPaths:
    """Where the evaluate stage reads and writes for one seed of one model."""

    model_file: Path
    run_file: Path
    metrics_file: Path  # reports/metrics/<model>.json (DVC metrics: the summary over seeds)
    report_dir: Path  # reports/evaluation/<model>/seed-<seed>/ (tables, pictures, record)
    confusion_pairs: Path  # reports/plots/<model>/confusion.csv (DVC plot: the first seed's)

    @classmethod
    def of(cls, paths: PathsConfig, name: str, seed: int) -> EvaluationPaths:
        """The paths of model `name`, seed `seed`, under `paths`."""
        model_dir = seed_dir(paths.model_dir(name), seed)
        reports = Path(paths.reports)
        return cls(
            model_file=model_dir / MODEL_FILE,
            run_file=model_dir / RUN_FILE,
            metrics_file=metrics_path(reports, name),
            report_dir=seed_dir(evaluation_dir(reports, name), seed),
            confusion_pairs=reports / "plots" / name / "confusion.csv",
        )


@dataclass(frozen=True)
class Predictions:
    """A model's output on the test set, with the true labels."""

    probabilities: np.ndarray  # (N, classes)
    labels: np.ndarray  # (N,)

    @property
    def predicted(self) -> np.ndarray:
        """The most probable class of each image."""
        return self.probabilities.argmax(axis=1)


def evaluate(
    name: str,
    seeds: list[int],
    data: DataConfig,
    paths: PathsConfig,
    settings: EvaluateConfig,
    tracking: TrackingConfig,
) -> MetricsSummary:
    """Evaluate every seed in `seeds` of model `name` on the test split of `data`; write each
    seed's reports, then the model's DVC metrics file; return the summary over seeds."""
    seed_paths = {seed: EvaluationPaths.of(paths, name, seed) for seed in seeds}
    for each in seed_paths.values():  # every seed trained, before anything is written
        RunRecord.read(each.run_file)
    processed = Path(paths.processed)
    images, labels = load_split(processed, "test")
    meta = datasets.read_source(processed, data)
    test_input = datasets.split_input(meta, "test", images, labels)
    # Seed folders of an earlier run with more seeds would be read by compare as seeds of this one.
    for seed, folder in seed_dirs(seed_paths[seeds[0]].report_dir.parent).items():
        if seed not in seeds:
            shutil.rmtree(folder)
    class_names = list(meta.class_names)
    records = [
        evaluate_seed(
            name, seed, each, settings, tracking, (images, labels), class_names, test_input
        )
        for seed, each in seed_paths.items()
    ]
    first = seed_paths[seeds[0]]
    with atomic_path(first.confusion_pairs) as tmp:
        shutil.copyfile(first.report_dir / PREDICTIONS_FILE, tmp)
    summary = MetricsSummary.over_seeds(records)
    summary.write(first.metrics_file)  # last: its presence means the rest is there
    log.info(
        "%s: test accuracy %.4f ± %.4f over %d seeds",
        name,
        summary.test_accuracy,
        summary.accuracy_std,
        summary.seeds,
    )
    return summary


def evaluate_seed(
    name: str,
    seed: int,
    paths: EvaluationPaths,
    settings: EvaluateConfig,
    tracking: TrackingConfig,
    test_set: tuple[np.ndarray, np.ndarray],
    class_names: list[str],
    test_input: datasets.DatasetInput,
) -> EvaluationRecord:
    """Evaluate one seed's model on `test_set` (images, labels); write its reports and log
    them into its MLflow run."""
    images, labels = test_set
    model = load_trained_model(paths.model_file)
    run = RunRecord.read(paths.run_file)
    inputs = as_model_input(images)
    check_fits_data(model, paths.model_file, inputs.shape[1:], len(class_names))
    client = training_run_client(tracking, run, paths.run_file)

    log.info("Predicting the %d test images with %s seed %d", len(inputs), name, seed)
    verbose = keras_verbose(settings.verbose)
    probabilities = model.predict(inputs, batch_size=settings.batch_size, verbose=verbose)
    predictions = Predictions(np.asarray(probabilities), labels)
    counts = confusion_matrix(labels, predictions.predicted, len(class_names))
    per_class = per_class_table(counts, class_names)
    record = EvaluationRecord(
        **scores(counts, per_class, predictions),
        **model_figures(model, inputs, paths.model_file, settings),
        train_seconds=run.train_seconds,
        seconds_per_epoch=run.seconds_per_epoch,
        epochs=run.epochs,
        mlflow_run_id=run.run_id,
    )

    write_reports(paths, model, images, predictions, counts, per_class, settings, name)
    record.write(paths.report_dir / RECORD_FILE)
    log_to_run(client, run.run_id, record, paths.report_dir)
    datasets.log_inputs_to_run(client, run.run_id, [test_input])
    log.info(
        "%s seed %d: test accuracy %.4f, loss %.4f",
        name,
        seed,
        record.test_accuracy,
        record.test_loss,
    )
    return record


def check_fits_data(
    model: keras.Model, model_file: Path, image_shape: tuple[int, ...], num_classes: int
) -> None:
    """Fail with one line if the model does not take these images or predict these classes."""
    expected_in = tuple(model.input_shape[1:])
    expected_out = model.output_shape[-1]
    if expected_in != tuple(image_shape) or expected_out != num_classes:
        raise ConvscopeError(
            f"{model_file}: the model maps {expected_in} inputs to {expected_out} classes, but "
            f"the test data has {tuple(image_shape)} images and {num_classes} classes; was it "
            "trained on another dataset?"
        )


def training_run_client(
    tracking: TrackingConfig, record: RunRecord, run_file: Path
) -> MlflowClient:
    """A client of the tracking store; fail with one line if the training run is not in it."""
    connect(tracking)
    client = MlflowClient(str(tracking.uri))
    try:
        client.get_run(record.run_id)
    except MlflowException:
        raise ConvscopeError(
            f"{run_file}: MLflow run {record.run_id} is not in {tracking.uri} (the training "
            f"logged to {record.tracking_uri}); set tracking.uri to that store or retrain"
        ) from None
    return client


def scores(
    counts: np.ndarray, per_class: pd.DataFrame, predictions: Predictions
) -> dict[str, float]:
    """Accuracy, loss, error count and macro-averaged F1 on the test set (record fields)."""
    correct = int(np.trace(counts))
    return dict(
        test_accuracy=correct / int(counts.sum()),
        test_loss=cross_entropy(predictions.probabilities, predictions.labels),
        test_errors=int(counts.sum()) - correct,
        test_macro_f1=float(per_class["f1"].mean()),
    )


def model_figures(
    model: keras.Model, inputs: np.ndarray, model_file: Path, settings: EvaluateConfig
) -> dict[str, float]:
    """Parameter counts, MACs per image, latency, throughput and file size of `model`
    (record fields)."""
    summary = parameter_summary(model)
    forward = compiled_forward(model)
    progress = keras_verbose(settings.verbose) == 1  # tqdm bars only where Keras draws its bar
    timing = settings.timing
    return dict(
        total_params=summary["total_params"],
        conv_params=summary["conv_params"],
        dense_params=summary["dense_params"],
        macs_per_image=summary["macs"],
        latency_ms_batch1=latency_ms(forward, inputs[:1], timing, progress),
        throughput_batch_size=timing.throughput_batch_size,
        throughput_images_per_s=throughput(forward, inputs, timing, progress),
        model_size_bytes=model_file.stat().st_size,
    )


def write_reports(
    paths: EvaluationPaths,
    model: keras.Model,
    images: np.ndarray,
    predictions: Predictions,
    counts: np.ndarray,
    per_class: pd.DataFrame,
    settings: EvaluateConfig,
    name: str,
) -> None:
    """Tables and pictures in `paths.report_dir`: per class, confusion, mistakes, layers, the
    seed's argument per layer (`anatomy.csv`/`.md`) and `predictions.csv`, one row per test
    image (actual, predicted), which the compare stage pairs across models."""
    out = paths.report_dir
    class_names = per_class["name"].tolist()
    _write_csv(out / "per_class.csv", per_class)
    save_figure(
        confusion_matrix_figure(counts, class_names, f"{name}: test-set confusion matrix"),
        out / "confusion.png",
    )
    mistakes = most_confident_mistakes(
        predictions.probabilities, predictions.labels, settings.misclassified
    )
    _write_csv(out / "misclassified.csv", mistakes)
    grid = misclassified_grid(
        images[mistakes["index"].to_numpy()],
        mistakes["actual"].to_numpy(),
        mistakes["predicted"].to_numpy(),
        mistakes["confidence"].to_numpy(),
        class_names,
        f"{name}: the {len(mistakes)} most confidently misclassified test images",
    )
    save_figure(grid, out / "misclassified.png")
    layers = layer_table(model)
    _write_csv(out / "layers.csv", layers)
    write_text(out / "layers.md", layers.to_markdown(index=False) + "\n")
    anatomy = layer_anatomy(model)
    _write_csv(out / "anatomy.csv", anatomy)
    write_text(out / "anatomy.md", anatomy_markdown(anatomy) + "\n")
    pairs = confusion_pairs(predictions.labels, predictions.predicted, class_names)
    _write_csv(out / PREDICTIONS_FILE, pairs)


def log_to_run(
    client: MlflowClient, run_id: str, record: EvaluationRecord, report_dir: Path
) -> None:
    """Add the evaluation's numbers and report files (with the record, `metrics.json`) to
    the model's MLflow training run.

    Through the client rather than `mlflow.start_run(run_id=...)`, which would reopen the
    finished run: its end time (so its duration) would move to now, and a failure here would
    mark the training FAILED.
    """
    timestamp = int(time.time() * 1000)
    client.log_batch(
        run_id,
        metrics=[
            Metric(key, float(value), timestamp, 0)
            for key, value in record.evaluation_metrics().items()
        ],
    )
    client.log_artifacts(run_id, str(report_dir), "evaluation")


def _write_csv(path: Path, frame: pd.DataFrame) -> None:
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False)
