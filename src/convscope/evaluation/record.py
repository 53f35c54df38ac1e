"""What the evaluate stage records for one model, in two files, and reading them back.

- `reports/evaluation/<model>/metrics.json`, the record: a flat JSON object with every key
  below (the throughput key names its batch size, e.g. `throughput_images_per_s_batch256`).
  The compare stage reads it; it is also logged to the model's MLflow run.
- `reports/metrics/<model>.json`, the DVC metrics file: the `SUMMARY_KEYS` figures that
  compare models, short enough that `dvc metrics show` prints one readable row per model.

The evaluate stage writes both atomically, the record first: a metrics file means the rest
is there.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from convscope.errors import ConvscopeError
from convscope.records import read_json_record

THROUGHPUT_PREFIX = "throughput_images_per_s_batch"
# Measured by the evaluate stage (and logged to the training's MLflow run under these names).
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
HINT = "run `dvc repro evaluate` to (re)create it"
RECORD_FILE = "metrics.json"  # in reports/evaluation/<model>/
# The DVC metrics file's keys, and the record key (or throughput prefix) each one copies.
SUMMARY_KEYS = {
    "test_accuracy": "test_accuracy",
    "test_loss": "test_loss",
    "params": "total_params",
    "latency_ms": "latency_ms_batch1",
    "images_per_s": THROUGHPUT_PREFIX,
    "train_seconds": "train_seconds",
}


def throughput_key(batch_size: int) -> str:
    """`throughput_images_per_s_batch256` for batch size 256."""
    return f"{THROUGHPUT_PREFIX}{batch_size}"


def summary(record: dict[str, Any]) -> dict[str, Any]:
    """The DVC metrics file's content: `SUMMARY_KEYS` taken from a model's full record."""
    throughput = next(key for key in record if key.startswith(THROUGHPUT_PREFIX))
    return {
        key: record[throughput if source == THROUGHPUT_PREFIX else source]
        for key, source in SUMMARY_KEYS.items()
    }


def read_metrics(path: Path) -> dict[str, Any]:
    """Read one model's record (`reports/evaluation/<model>/metrics.json`); a missing,
    unreadable or incomplete one is a one-line error naming it."""
    path = Path(path)
    metrics = read_json_record(path, (*EVALUATION_KEYS, *MODEL_KEYS, *TRAINING_KEYS), HINT)
    if not any(key.startswith(THROUGHPUT_PREFIX) for key in metrics):
        raise ConvscopeError(f"{path}: lacks {THROUGHPUT_PREFIX}<batch size>; {HINT}")
    return metrics
