"""The studies' data conditions: pixel permutation, shifted test sets, stratified subsets."""

from __future__ import annotations

import numpy as np
import pytest

from convscope.data.subsets import stratified_subsets
from convscope.errors import ConvscopeError


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
