"""Where the tiles of a mosaic go: a grid of equal tiles with gaps between them, and room for
a label above each.

Pure geometry (no matplotlib), shared by the report's pictures (`convscope.report.figures`)
and the data stage's sample grid (`convscope.data.figures`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

LABEL_BAND_INCHES = 0.16  # room above a tile for its one-line label
MAX_MOSAIC_WIDTH = 13.0  # inches
MAX_MOSAIC_HEIGHT = 9.0


@dataclass(frozen=True)
class MosaicLayout:
    """Where each tile of a mosaic goes, in array cells, and how big one cell is in inches."""

    rows: int
    cols: int
    tile_height: int
    tile_width: int
    gap: int  # empty cells between neighbouring tiles
    band: int  # empty cells above each tile for its label (0 = unlabelled)
    cell_inches: float

    @property
    def shape(self) -> tuple[int, int]:
        """(height, width) of the whole mosaic array."""
        return (
            self.rows * (self.band + self.tile_height + self.gap) - self.gap,
            self.cols * (self.tile_width + self.gap) - self.gap,
        )

    @property
    def inches(self) -> tuple[float, float]:
        """(width, height) of the mosaic on the page."""
        height, width = self.shape
        return width * self.cell_inches, height * self.cell_inches

    def origin(self, index: int) -> tuple[int, int]:
        """(row, column) of the top-left pixel of tile `index` (tiles fill row by row)."""
        row, col = divmod(index, self.cols)
        top = row * (self.band + self.tile_height + self.gap) + self.band
        return top, col * (self.tile_width + self.gap)

    def centre(self, index: int) -> tuple[float, float]:
        """(x, y) data coordinates of the centre of tile `index` (for ticks and labels)."""
        top, left = self.origin(index)
        return left + (self.tile_width - 1) / 2, top + (self.tile_height - 1) / 2


def plan_mosaic(
    count: int,
    tile_shape: tuple[int, int],
    tile_inches: float,
    labelled: bool,
    cols: int | None = None,
) -> MosaicLayout:
    """Lay out `count` tiles of `tile_shape` cells, each about `tile_inches` wide.

    Without `cols`, picks the column count that makes the mosaic closest to a 16:10
    landscape. Shrinks tiles if the mosaic would exceed MAX_MOSAIC_WIDTH x MAX_MOSAIC_HEIGHT.
    """
    tile_height, tile_width = tile_shape
    gap = max(1, round(tile_width / 10))
    if cols is None:
        cols = grid_columns(count, (tile_height + gap) / (tile_width + gap))
    cols = min(cols, count)
    rows = math.ceil(count / cols)
    band_inches = LABEL_BAND_INCHES if labelled else 0.0
    cell_inches = min(
        tile_inches / tile_width,
        MAX_MOSAIC_WIDTH / (cols * (tile_width + gap)),
        (MAX_MOSAIC_HEIGHT - rows * band_inches) / (rows * (tile_height + gap)),
    )
    band = math.ceil(band_inches / cell_inches) if labelled else 0
    return MosaicLayout(rows, cols, tile_height, tile_width, gap, band, cell_inches)


def grid_columns(count: int, tile_aspect: float, target_aspect: float = 1.6) -> int:
    """Column count whose grid of `count` tiles (height/width `tile_aspect`) is closest to
    `target_aspect` (width/height)."""

    def distance(cols: int) -> float:
        rows = math.ceil(count / cols)
        return abs(math.log(cols / (rows * tile_aspect) / target_aspect))

    return min(range(1, count + 1), key=distance)
