"""A training's run.json: the eight keys it is written with, and reading an older one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from convscope.errors import ConvscopeError
from convscope.records.run import RunRecord

RUN = RunRecord(
    run_id="abc",
    experiment_id="1",
    tracking_uri="sqlite:///mlflow.db",
    model_uri="models:/m-1",
    epochs=3,
    best_val_accuracy=0.98,
    train_seconds=12.0,
    seconds_per_epoch=4.0,
)


def test_round_trip_keeps_the_files_keys_in_order(tmp_path: Path) -> None:
    path = tmp_path / "lenet5" / "run.json"
    RUN.write(path)
    assert list(json.loads(path.read_text())) == [
        "run_id",
        "experiment_id",
        "tracking_uri",
        "model_uri",
        "epochs",
        "best_val_accuracy",
        "train_seconds",
        "seconds_per_epoch",
    ]
    assert RunRecord.read(path) == RUN


def test_a_value_of_the_wrong_type_names_the_file_and_the_stage(tmp_path: Path) -> None:
    path = tmp_path / "lenet5" / "run.json"
    RUN.write(path)
    path.write_text(path.read_text().replace('"epochs": 3', '"epochs": "three"'))
    with pytest.raises(ConvscopeError, match=r"wrong type .*`dvc repro train@lenet5`"):
        RunRecord.read(path)
