"""The seed's argument in numbers: per layer, what one kernel sees and what it costs.

`layer_anatomy(model)` reads a built Keras model (nothing typed in) and gives one row per
convolution, pooling and dense layer; layers that change neither weights nor the spatial
layout (rescaling, activation, batch norm, dropout) are left out. Columns:

- `model`, `layer`, `type`;
- `input_shape`, `output_shape`: one example's, e.g. `28x28x1` (batch axis dropped);
- `kernel`: the shape of ONE kernel: conv `kh x kw x in_channels`, dense its number of
  inputs, pooling its window `ph x pw` (no weights);
- `kernels`: conv filters, dense units (none for pooling); a locally connected layer
  (`convscope.models.windowed.PositionKernels`) has its own kernel at every output position,
  so filters times output positions;
- `weights_per_kernel`, `weights`: entries of one kernel, and of all (`kernels` times as
  many); biases excluded;
- `dense_unit_weights`: what ONE dense unit on the same input would need, one weight per
  input value. A 3x3 conv with 4 kernels on a 28x28 image has 36 weights against 784;
- `padding`, `other_padding_output_shape`: the layer's padding, and the output shape the
  other padding (same <-> valid) would give on the same input, computed by Keras from the
  layer's config with the padding switched (none for dense);
- `receptive_field`: the patch of the input image one output value depends on, by the
  standard recurrence over the layers in order, `r += (k_eff - 1) * jump; jump *= stride`,
  with `k_eff = dilation * (k - 1) + 1`. It counts padding, so it can exceed the image (LeNet-5's
  C5: 32x32 on a 28x28 image); after a Flatten every unit sees the whole image.

`receptive_fields(model)` gives the same fields with where they lie in the image, for
pictures that cut each unit's patch out of an input.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import keras
import pandas as pd

from convscope.errors import ConvscopeError
from convscope.models.windowed import PositionKernels

COLUMNS = (
    "model",
    "layer",
    "type",
    "input_shape",
    "kernel",
    "kernels",
    "weights_per_kernel",
    "weights",
    "dense_unit_weights",
    "padding",
    "output_shape",
    "other_padding_output_shape",
    "receptive_field",
)
COUNT_COLUMNS = ("kernels", "weights_per_kernel", "weights", "dense_unit_weights")
_CONV = keras.layers.Conv2D
_POOLS = (keras.layers.MaxPooling2D, keras.layers.AveragePooling2D)
OTHER_PADDING = {"same": "valid", "valid": "same"}
HEADERS = {
    "model": "model",
    "layer": "layer",
    "type": "type",
    "input_shape": "input",
    "kernel": "one kernel (pool: window)",
    "kernels": "kernels",
    "weights_per_kernel": "weights / kernel",
    "weights": "weights",
    "dense_unit_weights": "one dense unit on this input",
    "padding": "padding",
    "output_shape": "output",
    "other_padding_output_shape": "output, other padding",
    "receptive_field": "receptive field",
}


@dataclass(frozen=True)
class ReceptiveField:
    """Where one output unit of a spatial layer looks in the input image, in pixels (height,
    width): unit (i, j) depends on rows `start[0] + i * jump[0]` to that plus `size[0] - 1`,
    and columns likewise. `start` is negative where padding reaches outside the image."""

    size: tuple[int, int]
    jump: tuple[int, int]
    start: tuple[int, int]


def receptive_fields(model: keras.Model) -> dict[str, ReceptiveField]:
    """The receptive field of every conv, locally connected and pooling layer of a built
    chain of layers, by layer name (the recurrence of the module doc, plus where it starts:
    `start -= pad_before * jump` with Keras' `same` padding, which puts the odd pixel after)."""
    size, jump, start = [1, 1], [1, 1], [0, 0]
    whole_image = False  # after a Flatten, every unit depends on every pixel
    fields = {}
    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        if isinstance(layer.input, list):
            raise ConvscopeError(
                f"layer_anatomy: layer {layer.name!r} of model {model.name!r} has several "
                "inputs; expected a chain of layers"
            )
        if _is_spatial(layer):
            window, strides = _window(layer)
            for axis in (0, 1):
                length, out = layer.input.shape[axis + 1], layer.output.shape[axis + 1]
                padding = max((out - 1) * strides[axis] + window[axis] - length, 0)
                if layer.get_config()["padding"] == "same":
                    start[axis] -= padding // 2 * jump[axis]
                size[axis] += (window[axis] - 1) * jump[axis]
                jump[axis] *= strides[axis]
            fields[layer.name] = ReceptiveField(
                (size[0], size[1]), (jump[0], jump[1]), (start[0], start[1])
            )
        elif isinstance(layer, keras.layers.Dense | keras.layers.Flatten):
            whole_image = True
        elif not whole_image and tuple(layer.input.shape[1:3]) != tuple(layer.output.shape[1:3]):
            raise ConvscopeError(
                f"layer_anatomy: no receptive-field rule for layer {layer.name!r} of type "
                f"{type(layer).__name__}, which changes the feature-map size"
            )
    return fields


def layer_anatomy(model: keras.Model) -> pd.DataFrame:
    """One row per conv, pooling and dense layer of a built chain of layers (see module doc)."""
    image = tuple(model.inputs[0].shape[1:3])
    fields = receptive_fields(model)
    rows = []
    for layer in model.layers:
        if _is_spatial(layer):
            rows.append(_spatial_row(model.name, layer, _shape(fields[layer.name].size)))
        elif isinstance(layer, keras.layers.Dense):
            rows.append(_dense_row(model.name, layer, _shape(image)))
    table = pd.DataFrame(rows, columns=list(COLUMNS))
    return table.astype({column: "Int64" for column in COUNT_COLUMNS})


def _is_spatial(layer: keras.layers.Layer) -> bool:
    """A layer that slides a window: conv, locally connected or pooling."""
    return isinstance(layer, (_CONV, *_POOLS, PositionKernels))


def _window(layer: keras.layers.Layer) -> tuple[tuple[int, int], tuple[int, int]]:
    """(window, strides) of a spatial layer, each (height, width); a dilated kernel's window
    spans `dilation * (k - 1) + 1` pixels."""
    config = layer.get_config()
    if isinstance(layer, PositionKernels):
        window = tuple(layer.kernel_size)
    elif isinstance(layer, _CONV):
        window = tuple(
            d * (k - 1) + 1
            for d, k in zip(config["dilation_rate"], config["kernel_size"], strict=True)
        )
    else:
        window = tuple(config["pool_size"])
    strides = config["strides"] or config["pool_size"]
    return (window[0], window[1]), (strides[0], strides[1])


def anatomy_markdown(table: pd.DataFrame) -> str:
    """`layer_anatomy` rows (of one model or several) as a Markdown table, numbers with
    thousands separators, '—' where a column does not apply."""
    shown = table.drop(columns="model") if table["model"].nunique() == 1 else table
    texts = pd.DataFrame(
        {
            HEADERS[column]: [
                "—" if pd.isna(value) else f"{value:,}" if column in COUNT_COLUMNS else str(value)
                for value in shown[column]
            ]
            for column in shown.columns
        }
    )
    alignment = ["right" if column in COUNT_COLUMNS else "left" for column in shown.columns]
    return texts.to_markdown(index=False, colalign=alignment, disable_numparse=True)


def _spatial_row(model: str, layer: keras.layers.Layer, field: str) -> dict[str, object]:
    config = layer.get_config()
    other = OTHER_PADDING[config["padding"]]
    switched = type(layer).from_config({**config, "padding": other})
    row: dict[str, object] = {
        "model": model,
        "layer": layer.name,
        "type": type(layer).__name__,
        "input_shape": _shape(layer.input.shape[1:]),
        "padding": config["padding"],
        "output_shape": _shape(layer.output.shape[1:]),
        "other_padding_output_shape": _shape(switched.compute_output_shape(layer.input.shape)[1:]),
        "receptive_field": field,
    }
    if isinstance(layer, PositionKernels):
        kernel = (*layer.kernel_size, layer.input.shape[-1])
        positions = math.prod(layer.output.shape[1:3])
        row |= {
            "kernel": _shape(kernel),
            "kernels": positions * layer.filters,
            "weights_per_kernel": math.prod(kernel),
            "weights": positions * layer.filters * math.prod(kernel),
            "dense_unit_weights": math.prod(layer.input.shape[1:]),
        }
    elif isinstance(layer, _CONV):
        kernel_shape = tuple(layer.kernel.shape)  # (kh, kw, in_channels, filters)
        row |= {
            "kernel": _shape(kernel_shape[:-1]),
            "kernels": kernel_shape[-1],
            "weights_per_kernel": math.prod(kernel_shape[:-1]),
            "weights": math.prod(kernel_shape),
            "dense_unit_weights": math.prod(layer.input.shape[1:]),
        }
    else:
        row["kernel"] = _shape(config["pool_size"])
    return row


def _dense_row(model: str, layer: keras.layers.Layer, field: str) -> dict[str, object]:
    inputs, units = tuple(layer.kernel.shape)
    return {
        "model": model,
        "layer": layer.name,
        "type": type(layer).__name__,
        "input_shape": _shape(layer.input.shape[1:]),
        "kernel": str(inputs),
        "kernels": units,
        "weights_per_kernel": inputs,
        "weights": inputs * units,
        "dense_unit_weights": inputs,
        "output_shape": _shape(layer.output.shape[1:]),
        "receptive_field": field,
    }


def _shape(dims: Iterable[object]) -> str:
    """(28, 28, 6) -> '28x28x6'."""
    return "x".join(str(dim) for dim in dims)
