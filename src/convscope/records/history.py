"""A training's per-epoch `history.csv`: one row per epoch, Keras' logs as columns.

The training appends a row after each epoch (`History.append`), keeps the file in its
checkpoint folder while it runs, and writes the final one beside the model
(`models/<model>/seed-<seed>/history.csv`); the compare stage draws the learning curves from it.
Its totals (epochs, best validation accuracy, time) are the finished training's record,
`convscope.records.run.RunRecord.finished`.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from convscope.atomic import atomic_path
from convscope.errors import ConvscopeError
from convscope.records.files import read_or_fail
from convscope.records.seeds import train_hint

HISTORY_FILE = "history.csv"
EPOCH = "epoch"  # counted from 1
# What every history has; `epoch_seconds`, `images_per_second` are added by the training.
COLUMNS = (EPOCH, "loss", "accuracy", "val_loss", "val_accuracy")


@dataclass(frozen=True)
class History:
    """The per-epoch table of one training."""

    frame: pd.DataFrame

    def up_to(self, epoch: int) -> History:
        """The rows of epochs 1 to `epoch`."""
        return History(self.frame[self.frame[EPOCH] <= epoch])

    def write(self, path: Path) -> None:
        """Write the table as CSV at `path` atomically."""
        with atomic_path(path) as tmp:
            self.frame.to_csv(tmp, index=False)

    @staticmethod
    def append(path: Path, epoch: int, logs: Mapping[str, float]) -> None:
        """Add epoch `epoch`'s logs as a row of the CSV at `path` (a header first if new)."""
        row = {EPOCH: epoch, **{key: float(value) for key, value in logs.items()}}
        new_file = not path.exists()
        with path.open("a", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(row))
            if new_file:
                writer.writeheader()
            writer.writerow(row)

    @classmethod
    def read(cls, path: Path, require_rows: bool = True) -> History:
        """Read a `history.csv`; one-line error if missing, unreadable, lacking a column of
        `COLUMNS` or (with `require_rows`) empty."""
        path = Path(path)
        hint = train_hint(path)
        errors = (OSError, ValueError, UnicodeDecodeError)
        frame = read_or_fail(path, pd.read_csv, "a readable CSV", errors, hint)
        missing = [column for column in COLUMNS if column not in frame.columns]
        if missing or (require_rows and frame.empty):
            raise ConvscopeError(
                f"{path}: expected one row per epoch with columns {', '.join(COLUMNS)}; "
                f"{'lacks ' + ', '.join(missing) if missing else 'has no rows'}; {hint}"
            )
        return cls(frame)
