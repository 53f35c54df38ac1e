"""The studies' data conditions: pixel permutation, shifted test sets, stratified subsets."""

from __future__ import annotations

import numpy as np
import pytest

from convscope.data.permutation import (
    inverse_permutation,
    permute_pixels,
    permute_splits,
    pixel_permutation,
)
from convscope.errors import ConvscopeError


def random_images(count: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, size=(count, 28, 28), dtype=np.uint8)


def test_permutation_is_a_seeded_bijection() -> None:
    permutation = pixel_permutation((28, 28), seed=7)
    assert np.array_equal(np.sort(permutation), np.arange(784))
    assert np.array_equal(permutation, pixel_permutation((28, 28), seed=7))
    assert not np.array_equal(permutation, pixel_permutation((28, 28), seed=8))
    assert (permutation != np.arange(784)).mean() > 0.9  # it really moves the pixels


def test_permutation_is_the_same_for_every_split_and_inverts() -> None:
    splits = {"train": random_images(5, 1), "val": random_images(3, 2), "test": random_images(4, 3)}
    # The same image in two splits comes out the same: one permutation for all.
    splits["test"][0] = splits["train"][2]
    permuted = permute_splits(splits, (28, 28), seed=3)
    assert np.array_equal(permuted["test"][0], permuted["train"][2])
    permutation = pixel_permutation((28, 28), seed=3)
    for name, images in splits.items():
        assert permuted[name].shape == images.shape and permuted[name].dtype == images.dtype
        # output pixel i is input pixel permutation[i], in every image of every split
        flat = permuted[name].reshape(len(images), -1)
        assert np.array_equal(flat, images.reshape(len(images), -1)[:, permutation])
        restored = permute_pixels(permuted[name], inverse_permutation(permutation))
        assert np.array_equal(restored, images)
    # pixel values are moved, never changed: each image keeps its histogram
    assert np.array_equal(np.sort(flat, axis=1), np.sort(images.reshape(4, -1), axis=1))


def test_permutation_moves_channels_together() -> None:
    images = np.stack([random_images(2, 4), random_images(2, 5)], axis=-1)  # (2, 28, 28, 2)
    permutation = pixel_permutation((28, 28), seed=0)
    permuted = permute_pixels(images, permutation)
    for channel in (0, 1):
        assert np.array_equal(
            permuted[..., channel], permute_pixels(images[..., channel], permutation)
        )


def test_a_permutation_of_the_wrong_size_is_refused() -> None:
    with pytest.raises(ConvscopeError, match="permutation of the 784 pixel positions"):
        permute_pixels(random_images(1), np.arange(100))
