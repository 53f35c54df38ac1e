"""A trained model's files, written by the train stage, checked with one-line errors.

`<model_dir>/model.keras` is the Keras model and `<model_dir>/run.json` the record of its
MLflow training run (see `convscope.training.trainer.write_outputs`). Nothing here imports
TensorFlow, so a stage can reject bad input before paying for that import; loading the
model is `convscope.evaluation.trained_model`.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

from convscope.errors import ConvscopeError
from convscope.records import read_json_record

MODEL_FILE = "model.keras"
RUN_FILE = "run.json"
RUN_KEYS = ("run_id", "tracking_uri", "epochs", "train_seconds", "seconds_per_epoch")


def hint(path: Path) -> str:
    """How to recreate the train stage's output `path` (named by its model folder)."""
    return f"run `dvc repro train@{path.parent.name}` to (re)create it"


@dataclass(frozen=True)
class RunRecord:
    """What `run.json` says about the training: its MLflow run, its logged model
    (`models:/m-<id>`, None when `tracking.log_model` was off) and how long it took."""

    run_id: str
    tracking_uri: str
    epochs: int
    train_seconds: float
    seconds_per_epoch: float
    model_uri: str | None = None


def check_model_file(path: Path) -> None:
    """Fail with one line unless `path` is a file with the zip layout of a `.keras` model."""
    path = Path(path)
    if not path.is_file():
        raise ConvscopeError(f"{path}: missing; {hint(path)}")
    if not zipfile.is_zipfile(path):
        # Keras would report such a file as "not found"; say what is actually wrong.
        raise ConvscopeError(
            f"{path}: not a Keras model file (expected a .keras zip archive; the file is "
            f"truncated or not a model); {hint(path)}"
        )


def load_run_record(path: Path) -> RunRecord:
    """Read `run.json`; a missing file, bad JSON or a missing key is a one-line error."""
    path = Path(path)
    data = read_json_record(path, RUN_KEYS, hint(path))
    try:
        return RunRecord(
            run_id=str(data["run_id"]),
            tracking_uri=str(data["tracking_uri"]),
            epochs=int(data["epochs"]),
            train_seconds=float(data["train_seconds"]),
            seconds_per_epoch=float(data["seconds_per_epoch"]),
            model_uri=None if data.get("model_uri") is None else str(data["model_uri"]),
        )
    except (TypeError, ValueError) as err:
        raise ConvscopeError(f"{path}: a value has the wrong type ({err}); {hint(path)}") from None
