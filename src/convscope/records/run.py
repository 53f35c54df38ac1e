"""A training's `run.json`: its MLflow run and logged model, and how long it took.

Written by the train stage beside `model.keras` (`models/<model>/seed-<seed>/`); read by the
evaluate stage (to add its results to the run), the compare stage (to register the logged
model) and the benchmarks.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from convscope.errors import ConvscopeError, rerun_hint
from convscope.records.files import read_json_record, write_json
from convscope.records.seeds import SEED_PREFIX

RUN_FILE = "run.json"  # in the seed's folder of `paths.model_dir`
MODEL_FILE = "model.keras"  # beside it
# What a reader needs; the rest may be absent from a run.json of an older version.
REQUIRED_KEYS = ("run_id", "tracking_uri", "epochs", "train_seconds", "seconds_per_epoch")


def train_hint(path: Path) -> str:
    """How to recreate the train stage's output `path` (named by its model folder, the
    parent of its seed folder)."""
    folder = Path(path).parent
    if folder.name.startswith(SEED_PREFIX):
        folder = folder.parent
    return rerun_hint(f"train@{folder.name}")


@dataclass(frozen=True)
class RunRecord:
    """What `run.json` says about the training: its MLflow run, its logged model (None when
    trained with `tracking.log_model=false`) and how long it took."""

    run_id: str
    tracking_uri: str
    epochs: int
    train_seconds: float
    seconds_per_epoch: float
    model_uri: str | None = None
    experiment_id: str | None = None
    best_val_accuracy: float | None = None

    def write(self, path: Path) -> None:
        """Write `run.json` at `path` atomically (keys in the order the file has always had)."""
        write_json(
            path,
            {
                "run_id": self.run_id,
                "experiment_id": self.experiment_id,
                "tracking_uri": self.tracking_uri,
                "model_uri": self.model_uri,
                "epochs": self.epochs,
                "best_val_accuracy": self.best_val_accuracy,
                "train_seconds": self.train_seconds,
                "seconds_per_epoch": self.seconds_per_epoch,
            },
        )

    @classmethod
    def read(cls, path: Path) -> RunRecord:
        """Read `run.json`; a missing file, bad JSON or a missing key is a one-line error."""
        path = Path(path)
        data = read_json_record(path, REQUIRED_KEYS, train_hint(path))
        try:
            return cls(
                run_id=str(data["run_id"]),
                tracking_uri=str(data["tracking_uri"]),
                epochs=int(data["epochs"]),
                train_seconds=float(data["train_seconds"]),
                seconds_per_epoch=float(data["seconds_per_epoch"]),
                model_uri=_optional(data.get("model_uri"), str),
                experiment_id=_optional(data.get("experiment_id"), str),
                best_val_accuracy=_optional(data.get("best_val_accuracy"), float),
            )
        except (TypeError, ValueError) as err:
            raise ConvscopeError(
                f"{path}: a value has the wrong type ({err}); {train_hint(path)}"
            ) from None


def _optional(value: object, kind: type) -> object:
    return None if value is None else kind(value)
