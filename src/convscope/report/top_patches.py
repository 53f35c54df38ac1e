"""What excites each channel of a conv layer: the test-image patches, cut to the layer's
receptive field, where the channel's output is largest."""

from __future__ import annotations

from dataclasses import dataclass

import keras
import numpy as np
from matplotlib.figure import Figure

from convscope.errors import ConvscopeError
from convscope.models.anatomy import ReceptiveField, receptive_fields
from convscope.models.windowed import PositionKernels
from convscope.mosaic import plan_mosaic
from convscope.report.figures import PIXELS, draw_mosaic, mosaic_figure, shown_of

PATCH_TILE_INCHES = 0.45


@dataclass(frozen=True)
class TopPatches:
    """For one layer: `patches` (channels, per_channel, field height, field width) of input
    pixels (zeros where the field reaches past the image), the `activations` that chose them
    (channels, per_channel), largest first, and the `images` they come from."""

    layer: str
    patches: np.ndarray
    activations: np.ndarray
    images: np.ndarray


def top_patches(
    model: keras.Model,
    images: np.ndarray,
    per_channel: int = 9,
    batch_size: int = 1000,
) -> list[TopPatches]:
    """For every Conv2D and locally connected layer, each channel's `per_channel` strongest
    responses over `images` (raw model inputs with the channel axis), at most one per image
    (its strongest position), and the input patch each one sees."""
    layers = [
        layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D | PositionKernels)
    ]
    if per_channel > len(images):
        raise ConvscopeError(
            f"top_patches: per_channel: expected at most the {len(images)} images, "
            f"got {per_channel}"
        )
    fields = receptive_fields(model)
    probe = keras.Model(model.inputs, {layer.name: layer.output for layer in layers})
    # per layer: each image's strongest value and its flat position, per channel
    best = [[] for _ in layers]
    where = [[] for _ in layers]
    for begin in range(0, len(images), batch_size):
        outputs = probe([images[begin : begin + batch_size].astype("float32")], training=False)
        for index, layer in enumerate(layers):
            maps = keras.ops.convert_to_numpy(outputs[layer.name])
            flat = maps.reshape(maps.shape[0], -1, maps.shape[-1])  # (n, positions, channels)
            best[index].append(flat.max(axis=1))
            where[index].append(flat.argmax(axis=1))
    results = []
    for index, layer in enumerate(layers):
        values = np.concatenate(best[index])  # (images, channels)
        positions = np.concatenate(where[index])
        chosen = np.argsort(-values, axis=0, kind="stable")[:per_channel].T  # (channels, k)
        width = layer.output.shape[2]
        field = fields[layer.name]
        patches = np.stack(
            [
                [
                    _cut(
                        images[image, ..., 0],
                        field_origin(field, positions[image, channel], width),
                        field.size,
                    )
                    for image in row
                ]
                for channel, row in enumerate(chosen)
            ]
        )
        activations = np.take_along_axis(values.T, chosen, axis=1)
        results.append(TopPatches(layer.name, patches, activations, chosen))
    return results


def field_origin(field: ReceptiveField, flat_position: int, output_width: int) -> tuple[int, int]:
    """Top-left input pixel (row, column) of the field of output unit `flat_position`."""
    row, col = divmod(int(flat_position), output_width)
    return field.start[0] + row * field.jump[0], field.start[1] + col * field.jump[1]


def _cut(image: np.ndarray, origin: tuple[int, int], size: tuple[int, int]) -> np.ndarray:
    """The `size` window of `image` at `origin`, zero where it lies outside the image."""
    patch = np.zeros(size, dtype=float)
    top, left = origin
    rows = slice(max(top, 0), min(top + size[0], image.shape[0]))
    cols = slice(max(left, 0), min(left + size[1], image.shape[1]))
    patch[rows.start - top : rows.stop - top, cols.start - left : cols.stop - left] = image[
        rows, cols
    ]
    return patch


def top_patches_figure(result: TopPatches, title: str, max_channels: int = 32) -> Figure:
    """One row per channel (the first `max_channels`), its strongest patches left to right,
    in grey as the pixels are."""
    channels, per_channel, height, width = result.patches.shape
    shown = min(channels, max_channels)
    tiles = list(result.patches[:shown].reshape(-1, height, width))
    layout = plan_mosaic(
        len(tiles), (height, width), PATCH_TILE_INCHES, labelled=False, cols=per_channel
    )
    fig = mosaic_figure(layout, extra_width=0.8, extra_height=1.0)
    axes = fig.add_subplot()
    draw_mosaic(axes, tiles, layout, cmap=PIXELS, limits=(0.0, 255.0))
    axes.set_yticks(
        [layout.centre(c * per_channel)[1] for c in range(shown)], range(shown), fontsize=6
    )
    axes.tick_params(length=0, pad=2)
    axes.set_ylabel("channel", fontsize=8)
    fig.suptitle(
        f"{title}\n{result.layer}: {height}x{width} receptive field\n"
        f"{shown_of(shown, channels, 'channels')}, strongest {per_channel} test images each",
        fontsize=9,
    )
    return fig
