"""The sample grid: a few training images of every class, one row per class."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from convscope.atomic import atomic_path
from convscope.mosaic import MosaicLayout

GAP_PIXELS = 2
GAP_VALUE = 96  # mid grey, so cells stand apart from black backgrounds


def sample_mosaic(
    images: np.ndarray, labels: np.ndarray, classes: int, per_class: int
) -> np.ndarray:
    """One image holding the first `per_class` images of each class, a row per class.

    Cells are separated by `GAP_PIXELS` lines of grey; a class with fewer images leaves its
    remaining cells blank.
    """
    rows, cols = images.shape[1:]
    layout = MosaicLayout(classes, per_class, rows, cols, GAP_PIXELS, band=0, cell_inches=0.0)
    mosaic = np.full(layout.shape, GAP_VALUE, np.uint8)
    for cls in range(classes):
        picks = np.flatnonzero(labels == cls)[:per_class]
        for col in range(per_class):
            y, x = layout.origin(cls * per_class + col)
            mosaic[y : y + rows, x : x + cols] = images[picks[col]] if col < len(picks) else 0
    return mosaic


def save_sample_grid(
    images: np.ndarray,
    labels: np.ndarray,
    class_names: Sequence[str],
    per_class: int,
    path: Path,
    title: str,
) -> None:
    """Save a PNG with the first `per_class` images of each class, rows labelled by class name."""
    mosaic = sample_mosaic(images, labels, len(class_names), per_class)
    figure = Figure(figsize=(0.45 * per_class + 1.6, 0.45 * len(class_names) + 0.7))
    ax = figure.add_subplot()
    ax.imshow(mosaic, cmap="gray", vmin=0, vmax=255, interpolation="nearest")
    step = images.shape[1] + GAP_PIXELS
    ax.set_yticks(np.arange(len(class_names)) * step + images.shape[1] / 2, labels=class_names)
    ax.set_xticks([])
    ax.tick_params(length=0)
    ax.set_title(title)
    figure.tight_layout()
    with atomic_path(path) as temp:
        # No software/version metadata, so the same data gives the same bytes.
        figure.savefig(temp, format="png", dpi=100, metadata={"Software": None})
