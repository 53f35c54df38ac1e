"""What the evaluate stage records for one model, in two files, and reading them back.

- `reports/evaluation/<model>/seed-<seed>/metrics.json`, one seed's record
  (`EvaluationRecord`): a flat JSON object (the throughput key names its batch size, e.g.
  `throughput_images_per_s_batch256`). The compare stage reads it; its evaluation figures are
  also logged to that seed's MLflow run.
- `reports/metrics/<model>.json`, the DVC metrics file (`MetricsSummary`): the few figures
  that compare models, over the model's seeds, short enough that `dvc metrics show` prints
  one readable row per model in 120 columns.

The evaluate stage writes both atomically, the record first: a metrics file means the rest
is there.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from convscope.errors import ConvscopeError, rerun_hint
from convscope.records.files import read_json_record, read_or_fail, write_json

RECORD_FILE = "metrics.json"  # in reports/evaluation/<model>/seed-<seed>/
PREDICTIONS_FILE = "predictions.csv"  # beside it: one row per test image, actual and predicted
HINT = rerun_hint("evaluate")
THROUGHPUT_PREFIX = "throughput_images_per_s_batch"
# Measured by the evaluate stage and logged to the training's MLflow run under these names
# (with the throughput).
EVALUATION_KEYS = (
    "test_accuracy",
    "test_loss",
    "test_errors",
    "test_macro_f1",
    "macs_per_image",
    "latency_ms_batch1",
    "model_size_bytes",
)
# Copied from the model (parameter counts) and from its training's run.json.
MODEL_KEYS = ("total_params", "conv_params", "dense_params")
TRAINING_KEYS = ("train_seconds", "seconds_per_epoch", "epochs", "mlflow_run_id")
# The columns a comparison table shows, in order (`THROUGHPUT_PREFIX` stands for the
# throughput key): every key but the macro F1.
TABLE_COLUMNS = (
    "total_params",
    "conv_params",
    "dense_params",
    "macs_per_image",
    "test_accuracy",
    "test_loss",
    "test_errors",
    "epochs",
    "train_seconds",
    "seconds_per_epoch",
    "latency_ms_batch1",
    THROUGHPUT_PREFIX,
    "model_size_bytes",
    "mlflow_run_id",
)


PREDICTION_COLUMNS = ("actual", "predicted")


def read_predictions(path: Path) -> pd.DataFrame:
    """Read one seed's `predictions.csv` (columns actual, predicted: class names, one row per
    test image); a missing or damaged one is a one-line error."""
    path = Path(path)
    errors = (OSError, ValueError, UnicodeDecodeError)
    frame = read_or_fail(path, pd.read_csv, "a readable CSV", errors, HINT)
    missing = [column for column in PREDICTION_COLUMNS if column not in frame.columns]
    if missing or frame.empty:
        raise ConvscopeError(
            f"{path}: expected one row per test image with columns "
            f"{', '.join(PREDICTION_COLUMNS)}; {HINT}"
        )
    return frame


def metrics_dir(reports: Path) -> Path:
    """`reports/metrics/`: one DVC metrics file per model."""
    return Path(reports) / "metrics"


def metrics_path(reports: Path, model: str) -> Path:
    """`reports/metrics/<model>.json`, the model's `MetricsSummary`."""
    return metrics_dir(reports) / f"{model}.json"


def evaluation_dir(reports: Path, model: str) -> Path:
    """`reports/evaluation/<model>/`: a `seed-<seed>/` folder per seed, each with its record."""
    return Path(reports) / "evaluation" / model


def throughput_key(batch_size: int) -> str:
    """`throughput_images_per_s_batch256` for batch size 256."""
    return f"{THROUGHPUT_PREFIX}{batch_size}"


@dataclass(frozen=True)
class MetricsSummary:
    """The DVC metrics file: the figures that compare models, over the model's seeds (means,
    but for the sample standard deviation of the test accuracy, 0 with one seed).

    Six keys: `dvc metrics show` pads every column to its header, and these fill its 120
    columns; the latency and the rest are in the records and `reports/comparison.md`."""

    test_accuracy: float
    accuracy_std: float
    seeds: int
    params: int
    train_seconds: float
    images_per_s: float

    @classmethod
    def over_seeds(cls, records: Sequence[EvaluationRecord]) -> MetricsSummary:
        """The summary of one model's seeds' records."""
        if not records:
            raise ConvscopeError("MetricsSummary.over_seeds: expected at least one record")
        accuracies = [record.test_accuracy for record in records]
        return cls(
            test_accuracy=statistics.fmean(accuracies),
            accuracy_std=statistics.stdev(accuracies) if len(records) > 1 else 0.0,
            seeds=len(records),
            params=records[0].total_params,
            train_seconds=statistics.fmean(record.train_seconds for record in records),
            images_per_s=statistics.fmean(record.throughput_images_per_s for record in records),
        )

    def write(self, path: Path) -> None:
        """Write `reports/metrics/<model>.json` at `path` atomically."""
        write_json(path, asdict(self))

    @classmethod
    def read(cls, path: Path) -> MetricsSummary:
        """Read a DVC metrics file; a missing or damaged one is a one-line error."""
        path = Path(path)
        data = read_json_record(path, cls.__dataclass_fields__, HINT)
        try:
            return cls(**{key: data[key] for key in cls.__dataclass_fields__})
        except (TypeError, ValueError) as err:
            raise ConvscopeError(f"{path}: a value has the wrong type ({err}); {HINT}") from None


@dataclass(frozen=True)
class EvaluationRecord:
    """One model's full evaluation record: test scores, size, speed and its training."""

    test_accuracy: float
    test_loss: float
    test_errors: int
    test_macro_f1: float
    total_params: int
    conv_params: int
    dense_params: int
    macs_per_image: int
    latency_ms_batch1: float
    throughput_batch_size: int
    throughput_images_per_s: float
    model_size_bytes: int
    train_seconds: float
    seconds_per_epoch: float
    epochs: int
    mlflow_run_id: str

    @property
    def throughput_key(self) -> str:
        """The file's key for the throughput, which names its batch size."""
        return throughput_key(self.throughput_batch_size)

    def to_dict(self) -> dict[str, Any]:
        """The JSON object, keys in the order the file has always had."""
        data = asdict(self)
        data.pop("throughput_batch_size")
        throughput = data.pop("throughput_images_per_s")
        ordered = {}
        for key, value in data.items():
            if key == "model_size_bytes":
                ordered[self.throughput_key] = throughput
            ordered[key] = value
        return ordered

    def evaluation_metrics(self) -> dict[str, float]:
        """The figures the evaluation measured, as MLflow metrics of the training run."""
        measured = {key: self.to_dict()[key] for key in EVALUATION_KEYS}
        return {**measured, self.throughput_key: self.throughput_images_per_s}

    def write(self, path: Path) -> None:
        """Write `reports/evaluation/<model>/seed-<seed>/metrics.json` at `path` atomically."""
        write_json(path, self.to_dict())

    @classmethod
    def read(cls, path: Path) -> EvaluationRecord:
        """Read one model's record; a missing, unreadable or incomplete one is a one-line
        error naming it."""
        path = Path(path)
        data = read_json_record(path, (*EVALUATION_KEYS, *MODEL_KEYS, *TRAINING_KEYS), HINT)
        throughput = [key for key in data if key.startswith(THROUGHPUT_PREFIX)]
        if not throughput:
            raise ConvscopeError(f"{path}: lacks {THROUGHPUT_PREFIX}<batch size>; {HINT}")
        try:
            return cls(
                **{key: data[key] for key in (*EVALUATION_KEYS, *MODEL_KEYS, *TRAINING_KEYS)},
                throughput_batch_size=int(throughput[0].removeprefix(THROUGHPUT_PREFIX)),
                throughput_images_per_s=data[throughput[0]],
            )
        except (TypeError, ValueError) as err:
            raise ConvscopeError(f"{path}: a value has the wrong type ({err}); {HINT}") from None
