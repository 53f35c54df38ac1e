"""A training's history.csv: rows appended per epoch, cut back on resume, checked on read."""

from __future__ import annotations

from pathlib import Path

import pytest

from convscope.errors import ConvscopeError
from convscope.records.history import History
from convscope.records.run import RunRecord

LOGS = {"loss": 0.5, "accuracy": 0.8, "val_loss": 0.4, "val_accuracy": 0.85, "epoch_seconds": 2.0}


def test_appended_epochs_read_back_and_their_totals_make_the_run_record(tmp_path: Path) -> None:
    path = tmp_path / "history.csv"
    History.append(path, 1, LOGS)
    History.append(path, 2, LOGS | {"val_accuracy": 0.9})
    history = History.read(path)
    record = RunRecord.finished(history, "run", "0", "sqlite:///mlflow.db")
    assert (record.epochs, record.best_val_accuracy, record.train_seconds) == (2, 0.9, 4.0)
    assert record.metrics() == {
        "best_val_accuracy": 0.9,
        "train_seconds": 4.0,
        "seconds_per_epoch": 2.0,
        "epochs_run": 2.0,
    }
    history.up_to(1).write(path)
    assert History.read(path).frame["epoch"].tolist() == [1]


def test_a_history_lacking_a_column_names_it_and_the_stage(tmp_path: Path) -> None:
    path = tmp_path / "dense" / "history.csv"
    path.parent.mkdir()
    path.write_text("epoch,loss\n1,0.5\n")
    with pytest.raises(ConvscopeError, match=r"lacks accuracy, val_loss, val_accuracy; run `dvc"):
        History.read(path)
    path.write_text("epoch,loss,accuracy,val_loss,val_accuracy\n")
    with pytest.raises(ConvscopeError, match="has no rows"):
        History.read(path)
    assert History.read(path, require_rows=False).frame.empty
