"""The processed dataset on disk: one pair of `.npy` files per split, plus `meta.json`.

`<split>_images.npy` holds uint8 images of shape (N, rows, columns) and `<split>_labels.npy`
uint8 class indices of shape (N,), for the splits in `SPLITS`. `meta.json` holds the dataset
name, class names, counts per split and the training split's pixel mean and standard
deviation on [0, 1].
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from convscope.errors import ConvscopeError
from convscope.records import read_json_record

SPLITS = ("train", "val", "test")
META_FILE = "meta.json"
META_KEYS = (
    "name",
    "class_names",
    "num_classes",
    "image_shape",
    "counts",
    "pixel_mean",
    "pixel_std",
)
HINT = "run `dvc repro preprocess` to (re)create it"


def split_paths(processed_dir: Path, split: str) -> tuple[Path, Path]:
    """Paths of the images and labels files of `split` in `processed_dir`."""
    if split not in SPLITS:
        raise ConvscopeError(f"unknown split {split!r}, expected one of {', '.join(SPLITS)}")
    return processed_dir / f"{split}_images.npy", processed_dir / f"{split}_labels.npy"


def save_split(processed_dir: Path, split: str, images: np.ndarray, labels: np.ndarray) -> None:
    """Write one split's images and labels as uint8 `.npy` files."""
    images_path, labels_path = split_paths(processed_dir, split)
    np.save(images_path, np.asarray(images, dtype=np.uint8), allow_pickle=False)
    np.save(labels_path, np.asarray(labels, dtype=np.uint8), allow_pickle=False)


def load_split(processed_dir: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    """Load one split: uint8 images of shape (N, rows, columns) and uint8 labels of shape (N,)."""
    images_path, labels_path = split_paths(processed_dir, split)
    images = _load_array(images_path)
    labels = _load_array(labels_path)
    if images.dtype != np.uint8 or images.ndim != 3:
        raise ConvscopeError(
            f"{images_path}: {images.dtype} array of shape {images.shape}, "
            f"expected uint8 images of shape (N, rows, columns); {HINT}"
        )
    if labels.dtype != np.uint8 or labels.shape != (len(images),):
        raise ConvscopeError(
            f"{labels_path}: {labels.dtype} array of shape {labels.shape}, "
            f"expected uint8 labels of shape ({len(images)},) to match {images_path.name}; {HINT}"
        )
    return images, labels


def save_meta(processed_dir: Path, meta: dict[str, Any]) -> None:
    """Write `meta.json`."""
    (processed_dir / META_FILE).write_text(json.dumps(meta, indent=2) + "\n")


def load_meta(processed_dir: Path) -> dict[str, Any]:
    """Read `meta.json`, a dict with (at least) the keys in `META_KEYS` plus `validation`."""
    return read_json_record(processed_dir / META_FILE, META_KEYS, HINT)


def _load_array(path: Path) -> np.ndarray:
    """Load one `.npy` file, turning a missing or damaged file into a one-line error."""
    try:
        return np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise ConvscopeError(f"{path}: missing; {HINT}") from None
    except (OSError, ValueError, EOFError) as err:
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise ConvscopeError(f"{path}: not a readable .npy file ({reason}); {HINT}") from None
