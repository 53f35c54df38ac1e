"""Per-layer statistics of a Keras model: parameters, fan-in and multiply-accumulates.

Columns of `layer_table` (one row per layer, input layer excluded):

- `layer`, `type`: the layer's name and Keras class (`Conv2D`, `Dense`, `MaxPooling2D`...);
- `output_shape`: one example's output, e.g. `28x28x6` (batch axis dropped);
- `weights`: trainable kernel / weight-matrix entries; for BatchNormalization its
  per-channel scale `gamma`;
- `biases`: trainable bias entries; for BatchNormalization its per-channel offset `beta`;
- `params`: every variable entry, as Keras counts it: `weights + biases`, plus
  BatchNormalization's non-trainable `moving_mean` and `moving_variance`;
- `fan_in`: weights feeding ONE output unit / filter at one position (conv and locally
  connected: k_h*k_w*in_c, dense: number of inputs; 0 for layers without a kernel). A 3x3
  conv on one channel has 9, a dense unit on a 28x28 image has 784;
- `macs`: multiply-accumulates for one image: conv = out_h*out_w*out_c*k_h*k_w*in_c,
  dense = inputs*units, locally connected as conv (each position's own kernel, used once,
  so its MACs equal its weights). Biases, activations, pooling, rescaling, dropout, flatten and
  BatchNormalization (which folds into the preceding conv at inference) count 0.

`parameter_summary` adds these columns up by kind of layer; its keys are stable names
for MLflow metrics and reports (see its docstring).
"""

from __future__ import annotations

import math

import keras
import pandas as pd

from convscope.models.windowed import PositionKernels

COLUMNS = ("layer", "type", "output_shape", "weights", "biases", "params", "fan_in", "macs")
_CONV_TYPES = (keras.layers.Conv1D, keras.layers.Conv2D, keras.layers.Conv3D)
_BIAS_NAMES = ("bias", "beta")


def layer_table(model: keras.Model) -> pd.DataFrame:
    """One row per layer of a built functional/sequential model (columns: see module doc)."""
    rows = [_layer_row(layer) for layer in model.layers if not _is_input(layer)]
    return pd.DataFrame(rows, columns=list(COLUMNS))


def parameter_summary(model: keras.Model) -> dict[str, int]:
    """Totals of `layer_table` by kind of layer, all ints.

    Keys: `total_params`, `trainable_params`, `non_trainable_params`, `conv_layers`,
    `conv_params`, `conv_weights`, `conv_biases`, `conv_macs`, the same five for `local`
    (locally connected layers: `convscope.models.windowed.PositionKernels`) and for `dense`,
    `batchnorm_params`, `macs` (whole model, per image).
    """
    table = layer_table(model)
    kinds = [_kind(layer) for layer in model.layers if not _is_input(layer)]
    batchnorm = table[[kind == "batchnorm" for kind in kinds]]
    trainable = sum(math.prod(v.shape) for v in model.trainable_weights)
    total = int(table["params"].sum())
    summary = {
        "total_params": total,
        "trainable_params": int(trainable),
        "non_trainable_params": total - int(trainable),
    }
    for kind in ("conv", "local", "dense"):
        rows = table[[each == kind for each in kinds]]
        summary |= {
            f"{kind}_layers": len(rows),
            f"{kind}_params": int(rows["params"].sum()),
            f"{kind}_weights": int(rows["weights"].sum()),
            f"{kind}_biases": int(rows["biases"].sum()),
            f"{kind}_macs": int(rows["macs"].sum()),
        }
    return summary | {
        "batchnorm_params": int(batchnorm["params"].sum()),
        "macs": int(table["macs"].sum()),
    }


def _layer_row(layer: keras.layers.Layer) -> dict[str, object]:
    trainable = {_variable_name(v): math.prod(v.shape) for v in layer.trainable_weights}
    biases = sum(n for name, n in trainable.items() if name in _BIAS_NAMES)
    output_shape = tuple(layer.output.shape[1:])
    return {
        "layer": layer.name,
        "type": type(layer).__name__,
        "output_shape": "x".join(str(d) for d in output_shape),
        "weights": sum(trainable.values()) - biases,
        "biases": biases,
        "params": layer.count_params(),
        "fan_in": _fan_in(layer),
        "macs": _macs(layer, output_shape),
    }


def _fan_in(layer: keras.layers.Layer) -> int:
    """Kernel entries feeding one output channel/unit (0 for layers without a kernel)."""
    kind = _kind(layer)
    if kind in ("conv", "dense"):
        kernel_shape = tuple(layer.kernel.shape)
        return math.prod(kernel_shape[:-1])
    if kind == "local":  # kernel: (positions, kh*kw*in_c, filters)
        return int(layer.kernel.shape[1])
    return 0


def _macs(layer: keras.layers.Layer, output_shape: tuple[int, ...]) -> int:
    """Every output position applies the whole kernel once: positions * kernel entries."""
    kind = _kind(layer)
    if kind in ("conv", "dense"):
        positions = math.prod(output_shape[:-1])
        return positions * math.prod(layer.kernel.shape)
    if kind == "local":
        return math.prod(layer.kernel.shape)
    if kind == "other" and layer.trainable_weights:
        raise ValueError(
            f"layer_table: no MAC count for layer {layer.name!r} of type {type(layer).__name__}"
        )
    return 0


def _kind(layer: keras.layers.Layer) -> str:
    if isinstance(layer, _CONV_TYPES):
        return "conv"
    if isinstance(layer, PositionKernels):
        return "local"
    if isinstance(layer, keras.layers.Dense):
        return "dense"
    if isinstance(layer, keras.layers.BatchNormalization):
        return "batchnorm"
    return "other"


def _is_input(layer: keras.layers.Layer) -> bool:
    return isinstance(layer, keras.layers.InputLayer)


def _variable_name(variable: keras.Variable) -> str:
    """`kernel`, `bias`, `gamma`... (the last part of the variable's path)."""
    return variable.path.rsplit("/", 1)[-1]
