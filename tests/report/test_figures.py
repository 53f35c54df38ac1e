"""Shared report plumbing: mosaic layout and atomic PNG writing."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib import pyplot as plt
from matplotlib.figure import Figure
from PIL import Image

from convscope.errors import ConvscopeError
from convscope.mosaic import grid_columns, plan_mosaic
from convscope.report import save_figure

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def small_figure() -> Figure:
    figure = Figure(figsize=(3, 2))
    figure.add_subplot().plot([0, 1], [1, 0])
    return figure


def test_save_figure_writes_a_readable_png_of_the_right_size_and_no_temp_file(tmp_path):
    path = save_figure(small_figure(), tmp_path / "out" / "line.png", dpi=50)

    assert path == tmp_path / "out" / "line.png"
    assert path.read_bytes()[:8] == PNG_SIGNATURE
    with Image.open(path) as image:
        assert image.size == (150, 100)
    assert plt.imread(path).shape[:2] == (100, 150)
    assert [p.name for p in path.parent.iterdir()] == ["line.png"]


def test_save_figure_is_byte_for_byte_reproducible(tmp_path):
    first = save_figure(small_figure(), tmp_path / "a.png")
    second = save_figure(small_figure(), tmp_path / "b.png")
    assert first.read_bytes() == second.read_bytes()


def test_save_figure_closes_a_pyplot_figure(tmp_path):
    figure = plt.figure()
    assert figure.number in plt.get_fignums()
    save_figure(figure, tmp_path / "pyplot.png")
    assert figure.number not in plt.get_fignums()


def test_save_figure_leaves_nothing_when_drawing_fails(tmp_path):
    figure = Figure()
    figure.text(0.5, 0.5, r"$\frac{$")  # invalid mathtext: fails only when drawn
    with pytest.raises(ValueError):
        save_figure(figure, tmp_path / "broken.png")
    assert list(tmp_path.iterdir()) == []


def test_save_figure_rejects_a_path_that_is_not_png(tmp_path):
    with pytest.raises(ConvscopeError, match=r"\.png.*picture\.jpg"):
        save_figure(small_figure(), tmp_path / "picture.jpg")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("count", [1, 5, 6, 16, 32, 64, 100])
def test_grid_columns_fits_every_tile_without_an_empty_row(count):
    cols = grid_columns(count, tile_aspect=1.0)
    rows = -(-count // cols)
    assert rows * cols >= count > (rows - 1) * cols
    assert cols >= rows  # landscape


def test_grid_columns_spreads_tall_tiles_into_a_row():
    assert grid_columns(8, tile_aspect=10.0) == 8


def test_plan_mosaic_places_tiles_without_overlap_inside_the_canvas():
    layout = plan_mosaic(10, (5, 3), tile_inches=0.5, labelled=True)
    canvas = np.zeros(layout.shape, int)
    for index in range(10):
        top, left = layout.origin(index)
        canvas[top : top + 5, left : left + 3] += 1
    assert canvas.max() == 1
    assert canvas.sum() == 10 * 15
    assert layout.band > 0  # labelled tiles get room above them
    width, height = layout.inches
    assert 0 < width <= 13.0 and 0 < height <= 9.0
