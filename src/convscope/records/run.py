"""A finished training's record, `run.json`: its MLflow run and logged model, how many epochs
it ran, its best validation accuracy and how long it took.

Written by the train stage beside `model.keras` (`models/<model>/seed-<seed>/`); read by the
evaluate stage (to add its results to the run), the compare stage (to register the logged
model) and the benchmarks.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from convscope.errors import ConvscopeError
from convscope.records.files import read_json_record, write_json
from convscope.records.history import EPOCH, History
from convscope.records.seeds import train_hint

RUN_FILE = "run.json"  # in the seed's folder of `paths.model_dir(model)`
MODEL_FILE = "model.keras"  # beside it
# What a reader needs; the rest may be absent from a run.json of an older version.
REQUIRED_KEYS = ("run_id", "tracking_uri", "epochs", "train_seconds", "seconds_per_epoch")


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

    @classmethod
    def finished(
        cls,
        history: History,
        run_id: str,
        experiment_id: str,
        tracking_uri: str,
        model_uri: str | None = None,
    ) -> RunRecord:
        """The record of a training whose every epoch is in `history` (logged as MLflow run
        `run_id`): its epochs, best validation accuracy and time are the history's totals."""
        frame = history.frame
        epochs = int(frame[EPOCH].max())
        train_seconds = float(frame["epoch_seconds"].sum())
        return cls(
            run_id=run_id,
            experiment_id=experiment_id,
            tracking_uri=tracking_uri,
            model_uri=model_uri,
            epochs=epochs,
            best_val_accuracy=float(frame["val_accuracy"].max()),
            train_seconds=train_seconds,
            seconds_per_epoch=train_seconds / epochs,
        )

    def metrics(self) -> dict[str, float]:
        """The training's totals as the MLflow metrics of its run."""
        metrics = {
            "train_seconds": self.train_seconds,
            "seconds_per_epoch": self.seconds_per_epoch,
            "epochs_run": float(self.epochs),
        }
        if self.best_val_accuracy is not None:
            metrics["best_val_accuracy"] = self.best_val_accuracy
        return metrics

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
