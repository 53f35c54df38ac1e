"""Evaluation and comparison charts on small, realistic inputs."""

from __future__ import annotations

import numpy as np
import pytest

from convscope.errors import ConvscopeError
from convscope.report import save_figure
from convscope.report.comparison_figures import kernel_gallery


def test_kernel_gallery_one_panel_per_model_with_weights_per_unit(mosaic, tmp_path):
    rng = np.random.default_rng(3)
    first_layer = {
        "dense": rng.normal(size=(784, 512)),
        "lenet5": rng.normal(size=(5, 5, 1, 6)),
        "stacked_conv": rng.normal(size=(3, 3, 1, 32)),
    }

    figure = kernel_gallery(first_layer, max_tiles=16)

    titles = [panel.get_suptitle() for panel in figure.subfigs]
    assert titles == [
        "dense\ndense unit: 784 weights\nfirst 16 of 512 units",
        "lenet5\n5x5 kernel: 25 weights\nall 6 kernels",
        "stacked_conv\n3x3 kernel: 9 weights\nfirst 16 of 32 kernels",
    ]
    for panel, count in zip(figure.subfigs, [16, 6, 16], strict=True):
        _, image, tiles = mosaic(panel)
        assert tiles == count
        low, high = image.get_clim()
        assert low == -high
    path = save_figure(figure, tmp_path / "gallery.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_kernel_gallery_rejects_a_layer_that_is_neither_conv_nor_dense():
    with pytest.raises(ConvscopeError, match=r"'rgb'.*\(3, 3, 3, 8\)"):
        kernel_gallery({"rgb": np.zeros((3, 3, 3, 8))})
