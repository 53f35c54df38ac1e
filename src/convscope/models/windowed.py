"""What the layer tables, the anatomy table and the kernel figures read from a layer that
slides a window over the image like `Conv2D` but keeps its own kernel at every output
position (no weight sharing), such as `convscope.models.locally_connected`'s layer.

These readers name the protocol, not the layer, so that a model's own layer stays in its
model's module.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class PositionKernels(Protocol):
    """A windowed layer with one kernel per output position.

    `kernel_size` and `strides` are (height, width), `padding` is `same` or `valid`, as in
    `Conv2D`'s config; `position_kernels()` gives every kernel, of shape
    (out_h, out_w, kh, kw, in_channels, filters).
    """

    filters: int
    kernel_size: tuple[int, int]
    strides: tuple[int, int]
    padding: str

    def position_kernels(self) -> np.ndarray:
        """The kernel at each output position: (out_h, out_w, kh, kw, in_channels, filters)."""
        ...
