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
from convscope.data.subsets import stratified_subsets
from convscope.data.translation import DIRECTIONS, shift_images, shifted_test_sets
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


def unbalanced_labels() -> np.ndarray:
    """55,000 labels with MNIST-like unequal classes (4,900 to 6,200 images each)."""
    counts = [5400, 6200, 5500, 5600, 5300, 4900, 5400, 5700, 5300, 5700]
    return np.random.default_rng(0).permutation(np.repeat(np.arange(10), counts))


def test_subsets_are_stratified_seeded_and_nested() -> None:
    labels = unbalanced_labels()
    sizes = [600, 3000, 12000]
    subsets = stratified_subsets(labels, sizes, seed=42)
    shares = np.bincount(labels) / labels.size
    for size, indices in subsets.items():
        assert indices.size == size == np.unique(indices).size
        counts = np.bincount(labels[indices], minlength=10)
        assert np.abs(counts - size * shares).max() <= 1.0  # each class within one image
    assert set(subsets[600]) <= set(subsets[3000]) <= set(subsets[12000])
    again = stratified_subsets(labels, sizes, seed=42)
    assert all(np.array_equal(subsets[s], again[s]) for s in sizes)
    other = stratified_subsets(labels, sizes, seed=43)
    assert not np.array_equal(subsets[600], other[600])


def test_every_prefix_size_keeps_the_proportions() -> None:
    labels = unbalanced_labels()[:2000]
    shares = np.bincount(labels) / labels.size
    subsets = stratified_subsets(labels, range(1, 2001, 37), seed=0)
    worst = max(
        np.abs(np.bincount(labels[i], minlength=10) - len(i) * shares).max()
        for i in subsets.values()
    )
    assert worst <= 1.0


def test_a_subset_larger_than_the_training_set_is_refused() -> None:
    with pytest.raises(ConvscopeError, match="sizes from 1 to the 10 training images"):
        stratified_subsets(np.arange(10) % 2, [11], seed=0)
