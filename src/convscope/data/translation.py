"""Test images moved by whole pixels, the frame fixed: what slides out is lost, zeros slide in.

A convolution's output moves with its input; whether the model's answer stays is what the
translation study measures.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from convscope.errors import ConvscopeError

# (rows, columns) moved per pixel of shift: down, right, and both.
DIRECTIONS = {"horizontal": (0, 1), "vertical": (1, 0), "diagonal": (1, 1)}


@dataclass(frozen=True)
class ShiftedSet:
    """One condition of the translation study: the test set moved `pixels` in `direction`."""

    direction: str
    pixels: int
    images: np.ndarray
    labels: np.ndarray


def shift_images(images: np.ndarray, direction: str, pixels: int) -> np.ndarray:
    """`images` (n, h, w) or (n, h, w, c) moved `pixels` down (vertical), right (horizontal)
    or both (diagonal), zero fill; same shape and dtype."""
    if direction not in DIRECTIONS:
        raise ConvscopeError(
            f"shift_images: direction: expected one of {', '.join(DIRECTIONS)}, got {direction!r}"
        )
    if pixels < 0:
        raise ConvscopeError(f"shift_images: pixels: expected an integer >= 0, got {pixels}")
    rows, cols = (step * pixels for step in DIRECTIONS[direction])
    offset = (0, rows, cols, *([0] * (images.ndim - 3)))
    # order=0 with whole-pixel offsets moves values without interpolating them.
    return ndimage.shift(images, offset, order=0, mode="constant", cval=0)


def shifted_test_sets(
    images: np.ndarray, labels: np.ndarray, max_pixels: int
) -> Iterator[ShiftedSet]:
    """The unshifted set once (direction `none`), then each direction at 1..`max_pixels`
    pixels; the labels are the same array every time."""
    yield ShiftedSet("none", 0, images, labels)
    for direction in DIRECTIONS:
        for pixels in range(1, max_pixels + 1):
            yield ShiftedSet(direction, pixels, shift_images(images, direction, pixels), labels)
