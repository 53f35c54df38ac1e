"""Preprocessing: the stratified split, pixel statistics, and the facts of the real MNIST."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from omegaconf import DictConfig

from convscope.atomic import atomic_dir
from convscope.data.arrays import load_split
from convscope.data.download import download_from_config
from convscope.data.mirrors import MIRROR_ENV
from convscope.data.preprocess import pixel_stats, preprocess_dataset, stratified_split
from convscope.errors import ConvscopeError
from convscope.records.dataset import META_FILE, DatasetMeta

MNIST_TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


@pytest.fixture
def unbalanced_labels() -> np.ndarray:
    rng = np.random.default_rng(7)
    return rng.choice(4, size=1000, p=[0.1, 0.2, 0.3, 0.4]).astype(np.uint8)


def test_split_is_exact_disjoint_and_stratified(unbalanced_labels: np.ndarray) -> None:
    train, val = stratified_split(unbalanced_labels, size=150, seed=0, num_classes=4)
    assert len(val) == 150 and len(train) == 850
    assert np.array_equal(np.sort(np.concatenate([train, val])), np.arange(1000))
    assert np.all(np.diff(val) > 0) and np.all(np.diff(train) > 0)
    expected = 150 * np.bincount(unbalanced_labels) / 1000
    assert np.all(np.abs(np.bincount(unbalanced_labels[val], minlength=4) - expected) < 1)


def test_split_is_deterministic_for_a_seed(unbalanced_labels: np.ndarray) -> None:
    first = stratified_split(unbalanced_labels, 100, seed=3, num_classes=4)[1]
    again = stratified_split(unbalanced_labels, 100, seed=3, num_classes=4)[1]
    other = stratified_split(unbalanced_labels, 100, seed=4, num_classes=4)[1]
    assert np.array_equal(first, again)
    assert not np.array_equal(first, other)


@pytest.mark.parametrize("size", [0, 1000, -5])
def test_split_rejects_impossible_sizes(unbalanced_labels: np.ndarray, size: int) -> None:
    with pytest.raises(ConvscopeError, match=f"data.validation.size is {size}, expected between"):
        stratified_split(unbalanced_labels, size, seed=0, num_classes=4)


def test_split_refuses_to_empty_a_class() -> None:
    labels = np.array([0] * 50 + [1], dtype=np.uint8)
    with pytest.raises(ConvscopeError, match="leaves no training image of class 1"):
        stratified_split(labels, 49, seed=0, num_classes=2)


def test_pixel_stats_match_numpy() -> None:
    images = np.random.default_rng(1).integers(0, 256, size=(20, 7, 7), dtype=np.uint8)
    mean, std = pixel_stats(images)
    assert mean == pytest.approx((images / 255).mean(), abs=1e-12)
    assert std == pytest.approx((images / 255).std(), abs=1e-12)


def test_atomic_dir_swaps_whole_folders_and_keeps_the_old_one_on_failure(
    tmp_path: Path,
) -> None:
    target = tmp_path / "processed"
    with atomic_dir(target) as temp:
        (temp / "a.txt").write_text("first")
    with pytest.raises(RuntimeError), atomic_dir(target) as temp:
        (temp / "b.txt").write_text("half")
        raise RuntimeError("interrupted")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["processed"]
    assert [p.name for p in target.iterdir()] == ["a.txt"]
    with atomic_dir(target) as temp:
        (temp / "c.txt").write_text("second")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["processed"]
    assert [p.name for p in target.iterdir()] == ["c.txt"]


def test_processed_mnist_has_the_known_facts(processed_mnist: Path) -> None:
    sizes = {}
    for split in ("train", "val", "test"):
        images, labels = load_split(processed_mnist, split)
        assert images.dtype == np.uint8 and images.shape[1:] == (28, 28)
        sizes[split] = len(labels)
    assert sizes == {"train": 55000, "val": 5000, "test": 10000}
    train_labels = load_split(processed_mnist, "train")[1]
    val_labels = load_split(processed_mnist, "val")[1]
    test_labels = load_split(processed_mnist, "test")[1]
    combined = np.bincount(train_labels, minlength=10) + np.bincount(val_labels, minlength=10)
    assert combined.tolist() == MNIST_TRAIN_COUNTS
    assert np.bincount(test_labels).tolist() == MNIST_TEST_COUNTS

    meta = DatasetMeta.read(processed_mnist / META_FILE, provenance=True)
    assert meta.name == "mnist"
    assert meta.class_names == tuple(str(digit) for digit in range(10))
    assert meta.counts == sizes
    assert meta.pixel_mean == pytest.approx(0.1307, abs=5e-4)
    assert meta.pixel_std == pytest.approx(0.3081, abs=5e-4)


def test_summary_reports_the_full_training_set(processed_mnist: Path) -> None:
    reports = processed_mnist.parent / "reports"
    summary = json.loads((reports / "summary.json").read_text())
    full = summary["splits"]["full_train"]
    assert full["images"] == 60000
    assert list(full["class_counts"].values()) == MNIST_TRAIN_COUNTS
    assert round(full["pixel_mean"], 4) == 0.1307
    assert round(full["pixel_std"], 4) == 0.3081
    assert summary["splits"]["test"]["images"] == 10000
    assert list(summary["splits"]["test"]["class_counts"].values()) == MNIST_TEST_COUNTS
    assert (reports / "samples.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def folder_bytes(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` by relative path: equal exactly when DVC's hashes are."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@pytest.mark.slow
def test_processed_data_is_the_same_from_any_mirror(
    mnist_mirror: Path,
    mnist_data_config: DictConfig,
    loopback_server: Callable[..., Any],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # The same four files from a folder and from an HTTP server: the download logs which
    # mirror served each file, and nothing of the mirror reaches data/processed.
    mirrors = {"folder": str(mnist_mirror), "http": loopback_server(mnist_mirror).url}
    processed = {}
    for name, mirror in mirrors.items():
        monkeypatch.setenv(MIRROR_ENV, mirror)
        root = tmp_path / name
        with caplog.at_level(logging.INFO, logger="convscope.data.download"):
            download_from_config(mnist_data_config, root / "raw")
        assert caplog.text.count(f"fetched from {mirror},") == 4
        preprocess_dataset(mnist_data_config, root / "raw", root / "processed", root / "reports")
        processed[name] = folder_bytes(root / "processed")
    assert processed["folder"] == processed["http"]
    meta = processed["http"][META_FILE].decode()
    assert "127.0.0.1" not in meta and str(mnist_mirror) not in meta
