"""Pictures of what a network learned: conv kernels, dense-unit templates and feature maps.

Every function returns a `matplotlib.figure.Figure`; nothing is written or displayed here
(see `convscope.report.figures.save_figure`). Weights use a diverging colour map centred at
0 with one symmetric scale per figure, so red/blue intensities compare across tiles.
"""

from __future__ import annotations

import math

import keras
import numpy as np
from matplotlib.figure import Figure

from convscope.errors import ConvscopeError
from convscope.models.windowed import PositionKernels
from convscope.mosaic import plan_mosaic
from convscope.report.figures import (
    DIVERGING,
    PIXELS,
    SEQUENTIAL,
    add_colorbar,
    draw_mosaic,
    mosaic_figure,
    shown_of,
    symmetric_limit,
)

KERNEL_TILE_INCHES = 0.55
TEMPLATE_TILE_INCHES = 1.0
FEATURE_MAP_TILE_INCHES = 0.9
INPUT_PANEL_INCHES = 1.4


def kernel_grid(
    kernel: np.ndarray, title: str, max_inputs: int = 16, max_outputs: int = 64
) -> Figure:
    """Show a conv kernel of shape (kh, kw, in_c, out_c): one tile per output map.

    With one input channel, the kh x kw kernels of the output maps wrap in a labelled grid.
    With several, the picture is a table: one column per output map and one row per input
    channel (the first `max_inputs`), each cell that kernel slice. The slices are shown as
    they are rather than averaged over inputs, because averaging cancels opposite-signed
    slices and hides what the filter responds to. At most `max_outputs` output maps are
    drawn; the title says how many were cut. One colour scale, symmetric about 0.
    """
    weights = np.asarray(kernel, dtype=float)
    if weights.ndim != 4 or 0 in weights.shape:
        raise ConvscopeError(
            f"kernel_grid: expected a conv kernel of shape (kh, kw, in_c, out_c), "
            f"got shape {weights.shape}"
        )
    kernel_h, kernel_w, in_count, out_count = weights.shape
    inputs = min(in_count, max_inputs)
    outputs = min(out_count, max_outputs)
    shown = weights[:, :, :inputs, :outputs]
    limit = symmetric_limit(shown)
    detail = f"{kernel_h}x{kernel_w} kernels, {shown_of(outputs, out_count, 'output maps')}"

    if in_count == 1:
        layout = plan_mosaic(outputs, (kernel_h, kernel_w), KERNEL_TILE_INCHES, labelled=True)
        fig = mosaic_figure(layout)
        axes = fig.add_subplot()
        tiles = [shown[:, :, 0, j] for j in range(outputs)]
        labels = [f"#{j}" for j in range(outputs)]
        image = draw_mosaic(
            axes, tiles, layout, cmap=DIVERGING, limits=(-limit, limit), labels=labels
        )
    else:
        layout = plan_mosaic(
            inputs * outputs,
            (kernel_h, kernel_w),
            KERNEL_TILE_INCHES,
            labelled=False,
            cols=outputs,
        )
        fig = mosaic_figure(layout, extra_width=1.8, extra_height=1.3)
        axes = fig.add_subplot()
        tiles = [shown[:, :, i, j] for i in range(inputs) for j in range(outputs)]
        image = draw_mosaic(axes, tiles, layout, cmap=DIVERGING, limits=(-limit, limit))
        axes.set_xticks([layout.centre(j)[0] for j in range(outputs)], range(outputs), fontsize=6)
        axes.set_yticks(
            [layout.centre(i * outputs)[1] for i in range(inputs)], range(inputs), fontsize=6
        )
        axes.tick_params(length=0, pad=2, top=True, labeltop=True, bottom=False, labelbottom=False)
        axes.xaxis.set_label_position("top")
        axes.set_xlabel("output map", fontsize=8)
        axes.set_ylabel("input channel", fontsize=8)
        detail += f" (columns) x {shown_of(inputs, in_count, 'input channels')} (rows)"
    add_colorbar(fig, image, "weight")
    fig.suptitle(f"{title}\n{detail}", fontsize=10)
    return fig


def dense_templates(
    weights: np.ndarray,
    image_shape: tuple[int, int] = (28, 28),
    max_units: int = 64,
    title: str = "First dense layer: each unit's weights as an image",
) -> Figure:
    """Show a dense layer's (pixels, units) weight matrix as one image-shaped tile per unit.

    Each column of `weights` holds one weight per input pixel; reshaped to `image_shape` it
    shows the pattern the unit responds to. The first `max_units` units are drawn, on one
    colour scale symmetric about 0.
    """
    matrix = np.asarray(weights, dtype=float)
    pixel_count = math.prod(image_shape)
    if matrix.ndim != 2 or matrix.shape[0] != pixel_count or matrix.shape[1] == 0:
        raise ConvscopeError(
            f"dense_templates: expected weights of shape ({pixel_count}, units) for images of "
            f"shape {tuple(image_shape)}, got shape {matrix.shape}"
        )
    unit_count = matrix.shape[1]
    units = min(unit_count, max_units)
    tiles = matrix[:, :units].T.reshape(units, *image_shape)
    layout = plan_mosaic(units, tuple(image_shape), TEMPLATE_TILE_INCHES, labelled=True)
    fig = mosaic_figure(layout)
    limit = symmetric_limit(tiles)
    image = draw_mosaic(
        fig.add_subplot(),
        list(tiles),
        layout,
        cmap=DIVERGING,
        limits=(-limit, limit),
        labels=[f"unit {j}" for j in range(units)],
    )
    add_colorbar(fig, image, "weight")
    fig.suptitle(
        f"{title}\n{shown_of(units, unit_count, 'units')}, {pixel_count} weights each",
        fontsize=10,
    )
    return fig


def feature_maps(
    model: keras.Model, image: np.ndarray, max_maps: int = 64
) -> list[tuple[str, Figure]]:
    """Run one image through `model`; return (layer name, figure) for every Conv2D layer
    (and locally connected layer, `PositionKernels`).

    `image` is what the model takes, without the batch axis: raw pixels of shape (28, 28) or
    (28, 28, 1) for the project's models (which rescale inside). Each figure starts with the
    input image, then one tile per feature map (the first `max_maps`), on one colour scale.
    Shown is each Conv2D layer's own output: after its activation when the activation is
    fused into the layer (`Conv2D(..., activation="relu")`), before it when the activation is
    a separate layer (the title says which). Only the model's top-level layers are searched;
    a model without Conv2D layers gives an empty list.
    """
    try:
        inputs = model.inputs
    except AttributeError as err:
        raise ConvscopeError(
            f"feature_maps: model {model.name!r} has no defined inputs; "
            "build it with keras.Input(...) first"
        ) from err
    if len(inputs) != 1:
        raise ConvscopeError(
            f"feature_maps: expected a model with one input, {model.name!r} has {len(inputs)}"
        )
    pixels = _as_model_input(np.asarray(image), tuple(inputs[0].shape[1:]))

    convolutions = [layer for layer in model.layers if _is_windowed(layer)]
    if not convolutions:
        return []
    probe = keras.Model(inputs=inputs, outputs={layer.name: layer.output for layer in convolutions})
    outputs = probe([pixels[np.newaxis].astype("float32")], training=False)
    return [
        (
            layer.name,
            _feature_map_figure(
                layer, keras.ops.convert_to_numpy(outputs[layer.name])[0], pixels, max_maps
            ),
        )
        for layer in convolutions
    ]


def kernel_pictures(
    model: keras.Model, image_shape: tuple[int, int]
) -> tuple[dict[str, np.ndarray], dict[str, Figure]]:
    """Every conv layer's kernel (by layer name) and its grid (`<layer>.png`); for a model
    without convolutions, the first dense layer's weights and their image-shaped templates
    (`<layer>_templates.png`).

    A locally connected layer (`PositionKernels`) gives all its kernels, (out_h, out_w, kh,
    kw, in_c, out_c), and the grid of those at the centre output position: one position's
    kernels are what a conv layer shares over all of them."""
    convs = [layer for layer in model.layers if _is_windowed(layer)]
    if convs:
        weights: dict[str, np.ndarray] = {}
        figures: dict[str, Figure] = {}
        for layer in convs:
            if isinstance(layer, PositionKernels):
                kernels = layer.position_kernels()
                row, col = kernels.shape[0] // 2, kernels.shape[1] // 2
                title = (
                    f"{layer.name} kernels at output position ({row}, {col}) of "
                    f"{kernels.shape[0]}x{kernels.shape[1]}, each position its own"
                )
                weights[layer.name] = kernels
                figures[f"{layer.name}.png"] = kernel_grid(kernels[row, col], title=title)
            else:
                weights[layer.name] = np.asarray(layer.kernel)
                figures[f"{layer.name}.png"] = kernel_grid(
                    weights[layer.name], title=f"{layer.name} kernels"
                )
        return weights, figures
    dense = next(layer for layer in model.layers if isinstance(layer, keras.layers.Dense))
    matrix = np.asarray(dense.kernel)
    figure = dense_templates(matrix, image_shape=image_shape, title=f"{dense.name} templates")
    return {dense.name: matrix}, {f"{dense.name}_templates.png": figure}


def _is_windowed(layer: keras.layers.Layer) -> bool:
    """A Conv2D layer, or a locally connected one (a kernel per position)."""
    return isinstance(layer, keras.layers.Conv2D | PositionKernels)


def _as_model_input(pixels: np.ndarray, expected: tuple[int | None, ...]) -> np.ndarray:
    """Add the channel axis a (h, w) image lacks; fail if the shape does not fit the model."""
    if pixels.ndim == len(expected) - 1 and expected[-1] == 1:
        pixels = pixels[..., np.newaxis]
    fits = pixels.ndim == len(expected) and all(
        want is None or want == got for want, got in zip(expected, pixels.shape, strict=True)
    )
    if not fits:
        raise ConvscopeError(
            f"feature_maps: image of shape {pixels.shape} does not fit the model input {expected}"
        )
    return pixels


def _feature_map_figure(
    layer: keras.layers.Layer, maps: np.ndarray, pixels: np.ndarray, max_maps: int
) -> Figure:
    """The input image beside the first `max_maps` channels of `maps` (h, w, channels)."""
    height, width, channel_count = maps.shape
    shown = min(channel_count, max_maps)
    tiles = [maps[..., k] for k in range(shown)]
    layout = plan_mosaic(shown, (height, width), FEATURE_MAP_TILE_INCHES, labelled=True)
    fig = mosaic_figure(layout, extra_width=1.4 + INPUT_PANEL_INCHES)
    input_axes, maps_axes = fig.subplots(1, 2, width_ratios=[INPUT_PANEL_INCHES, layout.inches[0]])

    input_axes.imshow(pixels.mean(axis=-1), cmap=PIXELS, interpolation="nearest")
    input_axes.set_title("input", fontsize=9)
    input_axes.set_xticks([])
    input_axes.set_yticks([])

    values = maps[..., :shown]
    if values.min() < 0:
        limit = symmetric_limit(values)
        cmap, limits = DIVERGING, (-limit, limit)
    else:
        cmap, limits = SEQUENTIAL, (0.0, symmetric_limit(values))
    labels = [f"#{k}" for k in range(shown)]
    image = draw_mosaic(maps_axes, tiles, layout, cmap=cmap, limits=limits, labels=labels)
    add_colorbar(fig, image, "activation")

    activation = getattr(layer.activation, "__name__", str(layer.activation))
    stage = (
        "conv output (activation not fused into this layer)"
        if activation == "linear"
        else f"after {activation}"
    )
    fig.suptitle(
        f"{layer.name}: output shape {height}x{width}x{channel_count}, {stage}\n"
        f"{shown_of(shown, channel_count, 'feature maps')}",
        fontsize=10,
    )
    return fig
