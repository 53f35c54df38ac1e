"""Seeded, stratified, nested subsets of a training set, for the data-size study."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from convscope.errors import ConvscopeError


def stratified_order(labels: np.ndarray, seed: int) -> np.ndarray:
    """All indices of `labels` in an order whose every prefix keeps the class proportions
    (each class within one image of its share).

    Each class is shuffled with `seed`; its k-th image of n gets the key (k + 0.5) / n, and
    the indices are sorted by key (ties in a seeded random order). Written here because
    scikit-learn's stratified splitters draw each size afresh: their subsets are not nested.
    """
    rng = np.random.default_rng(seed)
    keys = np.empty(labels.size)
    for label in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == label))
        keys[members] = (np.arange(members.size) + 0.5) / members.size
    return np.lexsort((rng.random(labels.size), keys))


def stratified_subsets(
    labels: np.ndarray, sizes: Sequence[int], seed: int
) -> dict[int, np.ndarray]:
    """Indices of a subset of each size, sorted: stratified by class, seeded, and nested
    (each smaller subset lies inside every larger one)."""
    for size in sizes:
        if not 1 <= size <= labels.size:
            raise ConvscopeError(
                f"stratified_subsets: sizes: expected sizes from 1 to the {labels.size} "
                f"training images, got {size}"
            )
    order = stratified_order(labels, seed)
    return {size: np.sort(order[:size]) for size in sizes}
