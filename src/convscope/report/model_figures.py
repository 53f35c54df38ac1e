"""Pictures of one evaluated model: its confusion matrix and its most confident mistakes.

Every function returns a `matplotlib.figure.Figure`; nothing is written or displayed here
(see `convscope.report.figures.save_figure`).
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib
import numpy as np
from matplotlib.figure import Figure

from convscope.errors import ConvscopeError
from convscope.mosaic import plan_mosaic
from convscope.report.figures import PIXELS, add_colorbar, draw_mosaic, mosaic_figure

CONFUSION_COLOURS = matplotlib.colormaps["Blues"]
MISTAKE_TILE_INCHES = 1.5  # wide enough for a "true 4 → pred 9 (0.98)" label


def confusion_matrix_figure(cm: np.ndarray, class_names: Sequence[str], title: str) -> Figure:
    """Show a confusion matrix (rows = true class, columns = predicted class).

    Cells are coloured by the fraction of their row (per-class recall on the diagonal), so
    rare and common classes read alike, and annotated with the raw counts (zeros in grey).
    """
    counts = np.asarray(cm)
    size = len(class_names)
    if counts.shape != (size, size):
        raise ConvscopeError(
            f"confusion_matrix_figure: expected a {size}x{size} matrix for {size} class "
            f"names, got shape {counts.shape}"
        )
    if counts.size == 0 or (counts < 0).any() or not np.array_equal(counts, np.round(counts)):
        raise ConvscopeError(
            "confusion_matrix_figure: expected non-negative integer counts in the matrix"
        )
    counts = counts.astype(np.int64)
    totals = counts.sum(axis=1, keepdims=True)
    fractions = np.divide(counts, totals, out=np.zeros(counts.shape), where=totals > 0)

    side = max(4.0, 0.55 * size + 1.6)
    fig = Figure(figsize=(side + 1.0, side), layout="constrained")
    axes = fig.add_subplot()
    image = axes.imshow(fractions, cmap=CONFUSION_COLOURS, vmin=0.0, vmax=1.0)
    for (row, col), count in np.ndenumerate(counts):
        colour = "white" if fractions[row, col] > 0.5 else ("0.7" if count == 0 else "black")
        axes.text(col, row, str(count), ha="center", va="center", fontsize=7, color=colour)
    axes.set_xticks(range(size), class_names)
    axes.set_yticks(range(size), class_names)
    axes.set_xlabel("predicted class")
    axes.set_ylabel("true class")
    add_colorbar(fig, image, "fraction of the true class (row)")
    total = int(counts.sum())
    accuracy = np.trace(counts) / total if total else 0.0
    axes.set_title(f"{title}\n{total:,} images, {accuracy:.2%} correct", fontsize=10)
    return fig


def misclassified_grid(
    images: np.ndarray,
    true_labels: Sequence[int] | np.ndarray,
    pred_labels: Sequence[int] | np.ndarray,
    confidences: Sequence[float] | np.ndarray,
    class_names: Sequence[str],
    title: str,
) -> Figure:
    """Show misclassified images, each titled 'true 4 → pred 9 (0.98)'.

    `images` is (n, h, w) or (n, h, w, 1); the labels index `class_names`; `confidences`
    are the probabilities the model gave its (wrong) prediction. With no images the figure
    says so instead of being blank.
    """
    pixels = np.asarray(images, dtype=float)
    if pixels.ndim == 4 and pixels.shape[-1] == 1:
        pixels = pixels[..., 0]
    true_labels, pred_labels = np.asarray(true_labels), np.asarray(pred_labels)
    confidences = np.asarray(confidences, dtype=float)
    count = len(pixels)
    if pixels.ndim != 3 or not len(true_labels) == len(pred_labels) == len(confidences) == count:
        raise ConvscopeError(
            "misclassified_grid: expected images of shape (n, h, w) or (n, h, w, 1) and n "
            f"labels, predictions and confidences; got images {pixels.shape}, "
            f"{len(true_labels)} labels, {len(pred_labels)} predictions, "
            f"{len(confidences)} confidences"
        )
    for name, labels in (("true_labels", true_labels), ("pred_labels", pred_labels)):
        if count and (labels.min() < 0 or labels.max() >= len(class_names)):
            raise ConvscopeError(
                f"misclassified_grid: {name} must index the {len(class_names)} class names, "
                f"got values from {labels.min()} to {labels.max()}"
            )
    if count == 0:
        fig = Figure(figsize=(5.0, 2.0), layout="constrained")
        axes = fig.add_subplot()
        axes.text(0.5, 0.5, "no misclassified images", ha="center", va="center", fontsize=11)
        axes.set_axis_off()
        fig.suptitle(title, fontsize=10)
        return fig

    layout = plan_mosaic(count, pixels.shape[1:], MISTAKE_TILE_INCHES, labelled=True)
    fig = mosaic_figure(layout, extra_width=0.4)
    labels = [
        f"true {class_names[t]} → pred {class_names[p]} ({c:.2f})"
        for t, p, c in zip(true_labels, pred_labels, confidences, strict=True)
    ]
    draw_mosaic(
        fig.add_subplot(),
        list(pixels),
        layout,
        cmap=PIXELS,
        limits=(float(pixels.min()), float(pixels.max())),
        labels=labels,
    )
    fig.suptitle(f"{title}\n(confidence = probability given to the wrong class)", fontsize=10)
    return fig
