"""A trained model's files: damaged or missing ones give one line naming the file."""

from __future__ import annotations

import json
from pathlib import Path

import keras
import numpy as np
import pytest

from convscope.errors import ConvscopeError
from convscope.models.trained import first_layer_weights, load_trained_model
from convscope.records.run import RunRecord

RUN = {
    "run_id": "abc",
    "experiment_id": "1",
    "tracking_uri": "sqlite:///mlflow.db",
    "model_uri": None,
    "epochs": 3,
    "best_val_accuracy": 0.9,
    "train_seconds": 12.0,
    "seconds_per_epoch": 4.0,
}


@pytest.fixture(scope="module")
def saved_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    model = keras.Sequential(
        [keras.Input((6, 6, 1)), keras.layers.Conv2D(2, 3), keras.layers.Flatten()]
    )
    path = tmp_path_factory.mktemp("model") / "model.keras"
    model.save(path)
    return path


def damage(source: Path, target: Path, how: str) -> Path:
    if how == "truncated":
        target.write_bytes(source.read_bytes()[: source.stat().st_size // 2])
    elif how == "text":
        target.write_text("version https://git-lfs.github.com/spec/v1\n")
    elif how == "empty":
        target.write_bytes(b"")
    return target


@pytest.mark.parametrize("how", ["missing", "truncated", "text", "empty"])
def test_bad_model_file_is_one_line_naming_it(saved_model: Path, tmp_path: Path, how: str) -> None:
    path = damage(saved_model, tmp_path / "model.keras", how)
    with pytest.raises(ConvscopeError) as caught:
        load_trained_model(path)
    message = str(caught.value)
    assert str(path) in message and "\n" not in message
    assert ("missing" in message) == (how == "missing")


def test_saved_model_loads_and_gives_first_layer_kernel(saved_model: Path) -> None:
    model = load_trained_model(saved_model)
    assert first_layer_weights(model).shape == (3, 3, 1, 2)
    np.testing.assert_array_equal(first_layer_weights(model), np.asarray(model.layers[0].kernel))


def test_run_record_reads_training_numbers(tmp_path: Path) -> None:
    path = tmp_path / "run.json"
    path.write_text(json.dumps(RUN))
    record = RunRecord.read(path)
    assert (record.run_id, record.epochs, record.train_seconds) == ("abc", 3, 12.0)


@pytest.mark.parametrize(
    ("content", "reason"),
    [(None, "missing"), ("{not json", "not readable JSON"), ('{"run_id": "x"}', "lacks")],
)
def test_bad_run_record_is_one_line_naming_it(
    tmp_path: Path, content: str | None, reason: str
) -> None:
    path = tmp_path / "run.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(ConvscopeError, match=reason) as caught:
        RunRecord.read(path)
    assert str(path) in str(caught.value) and "\n" not in str(caught.value)
