"""Effective receptive fields: how much each input pixel moves a layer's centre unit, on real
test images, beside the theoretical field of `convscope.models.anatomy`.

Measured as Luo et al. (2016) do: the gradient of the layer's centre output position (all
channels summed) with respect to the input image, its absolute value averaged over images.
"""

from __future__ import annotations

from dataclasses import dataclass

import keras
import numpy as np
import tensorflow as tf
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from convscope.models.anatomy import receptive_fields
from convscope.models.windowed import PositionKernels
from convscope.report.figures import SEQUENTIAL

ERF_PANEL_INCHES = 2.4


@dataclass(frozen=True)
class EffectiveField:
    """One layer's effective receptive field: `gradient` (image height, width), the mean
    absolute input gradient of its centre unit, scaled to sum to 1; `extent`, the side of the
    smallest square holding `mass` of it, at `corner` (row, column); `theoretical`, the side
    (height, width) of the field the layer arithmetic gives."""

    layer: str
    gradient: np.ndarray
    mass: float
    extent: int
    corner: tuple[int, int]
    theoretical: tuple[int, int]


def effective_fields(
    model: keras.Model, images: np.ndarray, mass: float = 0.95, batch_size: int = 500
) -> list[EffectiveField]:
    """The effective receptive field of every Conv2D and locally connected layer of `model`
    (none for a model without one), measured on `images` (what the model takes: raw pixels,
    with the channel axis)."""
    layers = [
        layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D | PositionKernels)
    ]
    if not layers:
        return []
    theoretical = receptive_fields(model)
    probe = keras.Model(model.inputs, {layer.name: layer.output for layer in layers})
    totals = [np.zeros(images.shape[1:3]) for _ in layers]
    for begin in range(0, len(images), batch_size):
        batch = tf.convert_to_tensor(images[begin : begin + batch_size], dtype=tf.float32)
        with tf.GradientTape(persistent=True) as tape:
            tape.watch(batch)
            outputs = probe([batch], training=False)
            centres = [
                tf.reduce_sum(out[:, out.shape[1] // 2, out.shape[2] // 2, :])
                for out in (outputs[layer.name] for layer in layers)
            ]
        for total, centre in zip(totals, centres, strict=True):
            # each image's centre unit depends on that image alone: one gradient per image
            gradient = tape.gradient(centre, batch).numpy()
            total += np.abs(gradient).sum(axis=(0, *range(3, gradient.ndim)))
        del tape
    fields = []
    for layer, total in zip(layers, totals, strict=True):
        gradient = total / total.sum() if total.sum() > 0 else total
        extent, corner = smallest_square(gradient, mass)
        fields.append(
            EffectiveField(layer.name, gradient, mass, extent, corner, theoretical[layer.name].size)
        )
    return fields


def smallest_square(weights: np.ndarray, mass: float) -> tuple[int, tuple[int, int]]:
    """The side of the smallest square window of `weights` (2-D, non-negative) that holds at
    least `mass` of their sum, and the (row, column) of its top-left corner."""
    total = weights.sum()
    height, width = weights.shape
    summed = np.pad(weights.cumsum(axis=0).cumsum(axis=1), ((1, 0), (1, 0)))
    for side in range(1, min(height, width) + 1):
        windows = (
            summed[side:, side:]
            - summed[:-side, side:]
            - summed[side:, :-side]
            + summed[:-side, :-side]
        )
        if windows.max() >= mass * total - 1e-12 * total:
            row, col = np.unravel_index(np.argmax(windows), windows.shape)
            return side, (int(row), int(col))
    return min(height, width), (0, 0)


def effective_field_figure(fields: list[EffectiveField], title: str) -> Figure:
    """One heat map per layer: the effective field, its `mass` square (solid) and the
    theoretical field centred on the same point (dashed)."""
    fig = Figure(
        figsize=(ERF_PANEL_INCHES * max(len(fields), 1) + 0.4, ERF_PANEL_INCHES + 0.9),
        layout="constrained",
    )
    axes_list = fig.subplots(1, max(len(fields), 1), squeeze=False).ravel()
    for axes, field in zip(axes_list, fields, strict=False):
        axes.imshow(field.gradient, cmap=SEQUENTIAL, interpolation="nearest")
        row, col = field.corner
        axes.add_patch(_square(col - 0.5, row - 0.5, field.extent, field.extent, linestyle="-"))
        centre_row = row + (field.extent - 1) / 2
        centre_col = col + (field.extent - 1) / 2
        height, width = field.theoretical
        axes.add_patch(
            _square(centre_col - width / 2, centre_row - height / 2, width, height, linestyle="--")
        )
        axes.set_title(
            f"{field.layer}\n{field.mass:.0%} in {field.extent}x{field.extent}; "
            f"theory {height}x{width}",
            fontsize=8,
        )
        axes.set_xticks([])
        axes.set_yticks([])
    fig.suptitle(title, fontsize=10)
    return fig


def _square(left: float, top: float, width: float, height: float, linestyle: str) -> Rectangle:
    """An unfilled white outline (x, y of its top-left corner in data coordinates)."""
    return Rectangle(
        (left, top),
        width,
        height,
        fill=False,
        edgecolor="white",
        linewidth=1.0,
        linestyle=linestyle,
    )
