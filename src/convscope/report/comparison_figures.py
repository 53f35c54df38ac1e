"""The picture that compares models' first layers: the kernel gallery (the figures with
their spread over seeds are `convscope.comparison.spread_figures`).

Every function returns a `matplotlib.figure.Figure`; nothing is written or displayed here
(see `convscope.report.figures.save_figure`).
"""

from __future__ import annotations

import math

import matplotlib
import numpy as np
from matplotlib.figure import Figure, SubFigure

from convscope.errors import ConvscopeError
from convscope.mosaic import plan_mosaic
from convscope.report.figures import DIVERGING, draw_mosaic, shown_of, symmetric_limit

MODEL_COLOURS = matplotlib.colormaps["tab10"]
GALLERY_PANEL_INCHES = 3.4  # every model's kernels fill the same width, whatever their size


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
