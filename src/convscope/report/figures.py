"""Shared plumbing for the report pictures: tile mosaics, colour scales and saving PNGs.

Figures are plain `matplotlib.figure.Figure` objects (no pyplot state, no display), so they
work under any backend, including Agg on a headless machine.

Grids of small images (kernels, templates, feature maps, digits) are drawn as one *mosaic*:
all tiles pasted into a single array (NaN between tiles) shown by one `imshow`, each tile
outlined and optionally labelled. One axes per figure instead of one per tile keeps a
64-tile figure well under a second to draw.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib
import numpy as np
from matplotlib import pyplot as plt
from matplotlib.axes import Axes
from matplotlib.collections import PatchCollection
from matplotlib.colors import Colormap
from matplotlib.figure import Figure, SubFigure
from matplotlib.image import AxesImage
from matplotlib.patches import Rectangle

from convscope.atomic import atomic_path
from convscope.errors import ConvscopeError
from convscope.mosaic import MosaicLayout

# Weights and signed activations: red positive, blue negative, white at 0.
DIVERGING = matplotlib.colormaps["RdBu_r"]
# Non-negative activations.
SEQUENTIAL = matplotlib.colormaps["viridis"]
# Digit images as MNIST stores them (white on black), like the data stage's sample grid.
PIXELS = matplotlib.colormaps["gray"]

TILE_LABEL_SIZE = 7  # points
OUTLINE_GID = "tile-outlines"  # gid of the PatchCollection outlining a mosaic's tiles


def draw_mosaic(
    axes: Axes,
    tiles: Sequence[np.ndarray],
    layout: MosaicLayout,
    *,
    cmap: Colormap,
    limits: tuple[float, float],
    labels: Sequence[str] | None = None,
) -> AxesImage:
    """Paste `tiles` (2-D, all of the layout's tile shape) into one image on `axes`.

    Each tile is outlined in grey (so a white, near-zero tile is still visible) and, if
    `labels` are given, titled in the band above it. `limits` is the shared (vmin, vmax).
    """
    canvas = np.full(layout.shape, np.nan)
    outlines = []
    for index, tile in enumerate(tiles):
        top, left = layout.origin(index)
        canvas[top : top + layout.tile_height, left : left + layout.tile_width] = tile
        outlines.append(Rectangle((left - 0.5, top - 0.5), layout.tile_width, layout.tile_height))
    image = axes.imshow(canvas, cmap=cmap, vmin=limits[0], vmax=limits[1], interpolation="nearest")
    axes.add_collection(
        PatchCollection(
            outlines,
            facecolor="none",
            edgecolor="0.45",
            linewidth=0.6,
            clip_on=False,  # outlines on the mosaic's border would be half cut off
            gid=OUTLINE_GID,
        )
    )
    for index, label in enumerate(labels or ()):
        top, left = layout.origin(index)
        axes.text(
            left + (layout.tile_width - 1) / 2,
            top - 0.5 - 0.15 * layout.band,
            label,
            ha="center",
            va="bottom",
            fontsize=TILE_LABEL_SIZE,
        )
    axes.set_xticks([])
    axes.set_yticks([])
    axes.set_frame_on(False)
    return image


def mosaic_figure(
    layout: MosaicLayout, extra_width: float = 1.4, extra_height: float = 0.9
) -> Figure:
    """An empty constrained-layout figure with room for `layout` plus colour bar and titles."""
    width, height = layout.inches
    return Figure(
        figsize=(max(width + extra_width, 4.5), max(height + extra_height, 2.5)),
        layout="constrained",
    )


def symmetric_limit(values: np.ndarray) -> float:
    """Largest absolute finite value (a tiny positive number if all are 0), for +-scales."""
    finite = np.abs(values[np.isfinite(values)])
    largest = float(finite.max()) if finite.size else 0.0
    return largest if largest > 0 else 1e-12


def add_colorbar(figure: Figure | SubFigure, image: AxesImage, label: str) -> None:
    """A colour bar for `image`, to the right of its axes."""
    colorbar = figure.colorbar(image, ax=image.axes, shrink=0.85, pad=0.02)
    colorbar.set_label(label)


def shown_of(shown: int, total: int, noun: str) -> str:
    """'all 6 kernels' or 'first 16 of 32 kernels' (for titles of capped grids)."""
    return f"all {total} {noun}" if shown == total else f"first {shown} of {total} {noun}"


def save_figure(fig: Figure, path: Path, dpi: int = 120) -> Path:
    """Write `fig` as a PNG at `path` atomically (temp file beside it, then rename); close it.

    Creates the parent folder if needed; the PNG carries no version metadata, so the same
    figure gives the same bytes. Returns `path`.
    """
    path = Path(path)
    if path.suffix.lower() != ".png":
        raise ConvscopeError(f"save_figure: expected a path ending in .png, got {path}")
    try:
        with atomic_path(path) as temp:
            # No software/version metadata, so the same figure gives the same bytes.
            fig.savefig(temp, format="png", dpi=dpi, metadata={"Software": None})
    finally:
        plt.close(fig)
    return path
