"""The metrics file `reports/metrics/<model>.json`: its keys, and reading it back.

The evaluate stage writes it (atomically), the compare stage reads every one. It is a flat
JSON object (DVC shows it with `dvc metrics show`) with the keys below; the
throughput key names its batch size, e.g. `throughput_images_per_s_batch256`.
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


def throughput_key(batch_size: int) -> str:
    """`throughput_images_per_s_batch256` for batch size 256."""
    return f"{THROUGHPUT_PREFIX}{batch_size}"


def read_metrics(path: Path) -> dict[str, Any]:
    """Read one model's metrics file; a missing, unreadable or incomplete one is a one-line
    error naming it."""
    path = Path(path)
    metrics = read_json_record(path, (*EVALUATION_KEYS, *MODEL_KEYS, *TRAINING_KEYS), HINT)
    if not any(key.startswith(THROUGHPUT_PREFIX) for key in metrics):
        raise ConvscopeError(f"{path}: lacks {THROUGHPUT_PREFIX}<batch size>; {HINT}")
    return metrics
