"""Pictures that compare models: learning curves, accuracy against size, and the
first-layer kernel gallery.

Every function returns a `matplotlib.figure.Figure`; nothing is written or displayed here
(see `convscope.report.figures.save_figure`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure, SubFigure
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, PercentFormatter

from convscope.errors import ConvscopeError
from convscope.mosaic import plan_mosaic
from convscope.records.history import COLUMNS as HISTORY_COLUMNS
from convscope.records.history import EPOCH
from convscope.report.figures import DIVERGING, draw_mosaic, shown_of, symmetric_limit

SIZE_COLUMNS = ("model", "total_params", "test_accuracy")
MODEL_COLOURS = matplotlib.colormaps["tab10"]
GALLERY_PANEL_INCHES = 3.4  # every model's kernels fill the same width, whatever their size


def learning_curves(histories: dict[str, pd.DataFrame]) -> Figure:
    """Accuracy and loss per epoch for several models on one figure.

    Each history has one row per epoch and columns epoch, loss, accuracy, val_loss,
    val_accuracy. One colour per model; training dashed, validation solid.
    """
    if not histories:
        raise ConvscopeError("learning_curves: expected at least one model's history, got none")
    for name, history in histories.items():
        _require_columns(f"learning_curves: history of {name!r}", history, HISTORY_COLUMNS)

    fig = Figure(figsize=(11.0, 4.2), layout="constrained")
    accuracy_axes, loss_axes = fig.subplots(1, 2)
    model_handles = []
    for index, (name, history) in enumerate(histories.items()):
        colour = MODEL_COLOURS(index % MODEL_COLOURS.N)
        for axes, metric in ((accuracy_axes, "accuracy"), (loss_axes, "loss")):
            axes.plot(history[EPOCH], history[metric], color=colour, linestyle="--")
            axes.plot(
                history[EPOCH], history[f"val_{metric}"], color=colour, marker="o", markersize=3
            )
        model_handles.append(Line2D([], [], color=colour, linewidth=2.5, label=name))
    for axes, metric in ((accuracy_axes, "accuracy"), (loss_axes, "loss")):
        axes.set_xlabel("epoch")
        axes.set_ylabel(metric)
        axes.set_title(metric.capitalize())
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        axes.grid(alpha=0.3)
    style_handles = [
        Line2D([], [], color="0.3", linestyle="--", label="training"),
        Line2D([], [], color="0.3", marker="o", markersize=3, label="validation"),
    ]
    fig.legend(handles=model_handles + style_handles, loc="outside right upper", frameon=False)
    fig.suptitle("Learning curves: training (dashed) and validation (solid)", fontsize=11)
    return fig


def accuracy_vs_params(df: pd.DataFrame) -> Figure:
    """Test accuracy against parameter count (log scale), one labelled point per model.

    Columns: model, total_params (> 0), test_accuracy (a fraction in [0, 1]).
    """
    _require_columns("accuracy_vs_params", df, SIZE_COLUMNS)
    if df.empty:
        raise ConvscopeError("accuracy_vs_params: expected at least one model, got none")
    if (df["total_params"] <= 0).any():
        raise ConvscopeError("accuracy_vs_params: total_params must be positive (log scale)")
    if not df["test_accuracy"].between(0, 1).all():
        raise ConvscopeError("accuracy_vs_params: test_accuracy must be a fraction in [0, 1]")

    fig = Figure(figsize=(7.0, 4.8), layout="constrained")
    axes = fig.add_subplot()
    for index, row in enumerate(df.itertuples(index=False)):
        axes.scatter(row.total_params, row.test_accuracy, s=60, color=MODEL_COLOURS(index % 10))
        axes.annotate(
            f"{row.model}\n{_compact_count(row.total_params)} params, {row.test_accuracy:.2%}",
            (row.total_params, row.test_accuracy),
            xytext=(7, 4),
            textcoords="offset points",
            fontsize=9,
        )
    axes.set_xscale("log")
    count_labels = FuncFormatter(lambda value, _position: _compact_count(value))
    axes.xaxis.set_major_formatter(count_labels)
    axes.xaxis.set_minor_locator(LogLocator(subs=(2.0, 5.0)))
    axes.xaxis.set_minor_formatter(count_labels)
    axes.tick_params(axis="x", which="both", labelsize=9)
    axes.margins(x=0.3, y=0.25)
    axes.yaxis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=1))
    axes.set_xlabel("parameters (log scale)")
    axes.set_ylabel("test accuracy")
    axes.grid(alpha=0.3, which="both")
    axes.set_title("Test accuracy against model size")
    return fig


def kernel_gallery(
    first_layer: dict[str, np.ndarray],
    image_shape: tuple[int, int] = (28, 28),
    max_tiles: int = 16,
) -> Figure:
    """Each model's first-layer weights side by side, one panel per model.

    A conv kernel (kh, kw, 1, out_c) gives one kh x kw tile per kernel; a dense layer
    (pixels, units) gives one `image_shape` template per unit. Up to `max_tiles` per model,
    every panel equally wide, so a 3x3 kernel is drawn as large as a 28x28 template and the
    difference in what one unit can see is plain. Each panel has its own symmetric scale.
    """
    if not first_layer:
        raise ConvscopeError("kernel_gallery: expected at least one model's weights, got none")
    panels = {
        name: _gallery_tiles(name, weights, image_shape) for name, weights in first_layer.items()
    }

    fig = Figure(figsize=(GALLERY_PANEL_INCHES * len(panels) + 0.6, 5.6), layout="constrained")
    subfigures = fig.subfigures(1, len(panels), squeeze=False, wspace=0.04).ravel()
    for subfigure, (name, (tiles, caption, noun)) in zip(subfigures, panels.items(), strict=True):
        _gallery_panel(subfigure, name, tiles, caption, noun, max_tiles)
    fig.suptitle("First-layer weights: what one unit looks at", fontsize=12, fontweight="bold")
    fig.supxlabel(
        "A conv kernel is a small patch of weights slid over the whole image (shared by every "
        "position);\na dense unit has its own weight for every pixel. Red = positive, "
        "blue = negative weight.",
        fontsize=9,
    )
    return fig


def _gallery_tiles(
    name: str, weights: np.ndarray, image_shape: tuple[int, int]
) -> tuple[np.ndarray, str, str]:
    """(tiles, caption, noun) for one model's first-layer weights."""
    array = np.asarray(weights, dtype=float)
    pixel_count = math.prod(image_shape)
    if array.ndim == 4 and array.shape[2] == 1 and array.shape[3] > 0:
        kernel_h, kernel_w = array.shape[:2]
        tiles = np.moveaxis(array[:, :, 0, :], -1, 0)
        return tiles, f"{kernel_h}x{kernel_w} kernel: {kernel_h * kernel_w} weights", "kernels"
    if array.ndim == 2 and array.shape[0] == pixel_count and array.shape[1] > 0:
        tiles = array.T.reshape(-1, *image_shape)
        return tiles, f"dense unit: {pixel_count} weights", "units"
    raise ConvscopeError(
        f"kernel_gallery: weights of {name!r} have shape {array.shape}; expected a conv "
        f"kernel (kh, kw, 1, out_c) or a dense matrix ({pixel_count}, units)"
    )


def _gallery_panel(
    subfigure: SubFigure,
    name: str,
    tiles: np.ndarray,
    caption: str,
    noun: str,
    max_tiles: int,
) -> None:
    """One model's tiles in a square-ish grid filling the panel, with a colour bar below."""
    shown = tiles[:max_tiles]
    cols = math.ceil(math.sqrt(len(shown)))
    layout = plan_mosaic(
        len(shown),
        shown.shape[1:],
        (GALLERY_PANEL_INCHES - 0.4) / cols,
        labelled=False,
        cols=cols,
    )
    limit = symmetric_limit(shown)
    axes = subfigure.add_subplot()
    image = draw_mosaic(axes, list(shown), layout, cmap=DIVERGING, limits=(-limit, limit))
    colorbar = subfigure.colorbar(image, ax=axes, location="bottom", shrink=0.8, pad=0.03)
    colorbar.set_label("weight", fontsize=8)
    colorbar.ax.tick_params(labelsize=7)
    subfigure.suptitle(f"{name}\n{caption}\n{shown_of(len(shown), len(tiles), noun)}", fontsize=10)


def _compact_count(value: float) -> str:
    """1234567 -> '1.23M', 61706 -> '61.7k', 950 -> '950'."""
    for divisor, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= divisor:
            return f"{value / divisor:.3g}{suffix}"
    return f"{value:.3g}"


def _require_columns(what: str, frame: pd.DataFrame, columns: Sequence[str]) -> None:
    """Fail with one line naming the missing columns."""
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise ConvscopeError(
            f"{what} lacks columns {', '.join(missing)}; expected {', '.join(columns)}"
        )
