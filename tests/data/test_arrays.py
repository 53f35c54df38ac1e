"""Loading the processed arrays: round trip, and a clear error for each kind of damage."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from convscope.data.arrays import load_split, save_split
from convscope.errors import ConvscopeError
from convscope.records.dataset import META_FILE, DatasetMeta

META = DatasetMeta(
    name="tiny",
    class_names=("a", "b"),
    num_classes=2,
    image_shape=(2, 3),
    counts={"train": 4},
    pixel_mean=0.5,
    pixel_std=0.25,
)


@pytest.fixture
def processed(tmp_path: Path) -> Path:
    images = np.arange(24, dtype=np.uint8).reshape(4, 2, 3)
    save_split(tmp_path, "train", images, np.array([0, 1, 1, 0]))
    META.write(tmp_path / META_FILE)
    return tmp_path


def test_round_trip(processed: Path) -> None:
    images, labels = load_split(processed, "train")
    assert images.shape == (4, 2, 3) and images.dtype == np.uint8
    assert labels.tolist() == [0, 1, 1, 0] and labels.dtype == np.uint8
    assert DatasetMeta.read(processed / META_FILE) == META


def test_missing_split_names_the_file(processed: Path) -> None:
    with pytest.raises(ConvscopeError, match=r"val_images\.npy: missing; run `dvc repro"):
        load_split(processed, "val")


def test_unknown_split(processed: Path) -> None:
    with pytest.raises(ConvscopeError, match="unknown split 'dev', expected one of train, val"):
        load_split(processed, "dev")


def test_truncated_array(processed: Path) -> None:
    path = processed / "train_images.npy"
    path.write_bytes(path.read_bytes()[:-5])
    with pytest.raises(ConvscopeError, match=r"train_images\.npy: not a readable \.npy file"):
        load_split(processed, "train")


def test_labels_that_do_not_match_the_images(processed: Path) -> None:
    np.save(processed / "train_labels.npy", np.zeros(3, np.uint8))
    with pytest.raises(ConvscopeError, match=r"expected uint8 labels of shape \(4,\)"):
        load_split(processed, "train")


def test_images_of_the_wrong_type(processed: Path) -> None:
    np.save(processed / "train_images.npy", np.zeros((4, 2, 3), np.float32))
    with pytest.raises(ConvscopeError, match=r"float32 array .*, expected uint8 images"):
        load_split(processed, "train")


def test_meta_missing_damaged_or_incomplete(tmp_path: Path) -> None:
    with pytest.raises(ConvscopeError, match=r"meta\.json: missing"):
        DatasetMeta.read(tmp_path / META_FILE)
    (tmp_path / "meta.json").write_text('{"name": "tiny",')
    with pytest.raises(ConvscopeError, match=r"meta\.json: not readable JSON"):
        DatasetMeta.read(tmp_path / META_FILE)
    (tmp_path / "meta.json").write_text(json.dumps({"name": "tiny"}))
    with pytest.raises(ConvscopeError, match=r"meta\.json: lacks class_names, num_classes"):
        DatasetMeta.read(tmp_path / META_FILE)
