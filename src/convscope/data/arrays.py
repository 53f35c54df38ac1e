"""The processed dataset on disk: one pair of `.npy` files per split (and `meta.json`, see
`convscope.records.dataset`), and the images as the models take them.

`<split>_images.npy` holds uint8 images of shape (N, rows, columns) and `<split>_labels.npy`
uint8 class indices of shape (N,), for the splits in `SPLITS`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from convscope.errors import ConvscopeError
from convscope.records.dataset import HINT
from convscope.records.files import read_or_fail

SPLITS = ("train", "val", "test")


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


def as_model_input(images: np.ndarray) -> np.ndarray:
    """uint8 images (N, H, W) as the float32 (N, H, W, 1) raw-pixel input the models take."""
    return images.astype("float32")[..., np.newaxis]


def _load_array(path: Path) -> np.ndarray:
    """Load one `.npy` file, turning a missing or damaged file into a one-line error."""
    return read_or_fail(
        path,
        lambda file: np.load(file, allow_pickle=False),
        "a readable .npy file",
        (OSError, ValueError, EOFError),
        HINT,
    )
