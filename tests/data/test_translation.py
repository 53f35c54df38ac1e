"""The studies' data conditions: pixel permutation, shifted test sets, stratified subsets."""

from __future__ import annotations

import numpy as np
import pytest

from convscope.data.translation import DIRECTIONS, shift_images, shifted_test_sets
from convscope.errors import ConvscopeError


def random_images(count: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, size=(count, 28, 28), dtype=np.uint8)


@pytest.mark.parametrize("direction", sorted(DIRECTIONS))
@pytest.mark.parametrize("pixels", [0, 1, 4])
def test_shift_loses_only_what_leaves_the_frame(direction: str, pixels: int) -> None:
    images = random_images(6)
    shifted = shift_images(images, direction, pixels)
    rows, cols = (step * pixels for step in DIRECTIONS[direction])
    assert shifted.shape == images.shape and shifted.dtype == images.dtype
    # what stays in the frame moved by (rows, cols); what came in is zero
    assert np.array_equal(shifted[:, rows:, cols:], images[:, : 28 - rows, : 28 - cols])
    assert not shifted[:, :rows].any() and not shifted[:, :, :cols].any()
    # pixel sums fall by exactly the pixels pushed past the bottom and right edges
    kept = images[:, : 28 - rows, : 28 - cols].sum(axis=(1, 2), dtype=np.int64)
    lost = images.sum(axis=(1, 2), dtype=np.int64) - kept
    assert np.array_equal(shifted.sum(axis=(1, 2), dtype=np.int64), images.sum(axis=(1, 2)) - lost)
    if pixels:
        assert (lost > 0).all()  # random images: something always leaves


def test_shifted_test_sets_keep_their_labels() -> None:
    images, labels = random_images(4), np.array([3, 1, 4, 1])
    sets = list(shifted_test_sets(images, labels, max_pixels=4))
    assert [(s.direction, s.pixels) for s in sets][:2] == [("none", 0), ("horizontal", 1)]
    assert len(sets) == 1 + 3 * 4
    assert np.array_equal(sets[0].images, images)
    for condition in sets:
        assert np.array_equal(condition.labels, labels)
        assert condition.images.shape == images.shape


def test_shift_refuses_unknown_directions_and_negative_pixels() -> None:
    with pytest.raises(ConvscopeError, match="direction: expected one of"):
        shift_images(random_images(1), "sideways", 1)
    with pytest.raises(ConvscopeError, match="pixels: expected an integer >= 0"):
        shift_images(random_images(1), "vertical", -1)
