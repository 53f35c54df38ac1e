"""Constructed predictions: a test set, and models that get chosen images wrong."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pytest

IMAGES = 10_000


@pytest.fixture(scope="session")
def labels() -> np.ndarray:
    """10,000 test images, 1,000 of each of 10 classes."""
    return np.arange(IMAGES) % 10


@pytest.fixture
def wrong_on(labels: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    """Predictions that are right everywhere except on the given image indices."""

    def predict(indices: np.ndarray) -> np.ndarray:
        predicted = labels.copy()
        predicted[indices] = (labels[indices] + 1) % 10
        return predicted

    return predict


@pytest.fixture
def random_errors(
    wrong_on: Callable[[np.ndarray], np.ndarray],
) -> Callable[[Sequence[int], int], dict[int, np.ndarray]]:
    """{seed: predictions} with `counts[i]` errors on random images for seed i."""

    def make(counts: Sequence[int], stream: int) -> dict[int, np.ndarray]:
        rng = np.random.default_rng(stream)
        return {
            seed: wrong_on(rng.choice(IMAGES, size=count, replace=False))
            for seed, count in enumerate(counts)
        }

    return make
