"""One fixed, seeded shuffle of the pixel positions, the same for every image of every split.

A dense layer sees a permuted image exactly as well as the original (a fixed reordering of its
inputs); a convolution loses the neighbourhoods its kernels slide over.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from convscope.errors import ConvscopeError


def pixel_permutation(image_shape: tuple[int, int], seed: int) -> np.ndarray:
    """A seeded bijection of the `height * width` flat pixel positions: output position `i`
    takes the pixel at flat position `permutation[i]`."""
    return np.random.default_rng(seed).permutation(image_shape[0] * image_shape[1])


def permute_pixels(images: np.ndarray, permutation: np.ndarray) -> np.ndarray:
    """`images` (n, h, w) or (n, h, w, c) with their pixel positions reordered by
    `permutation` (channels move together); a new array of the same shape and dtype."""
    height, width = images.shape[1:3]
    if sorted(permutation.tolist()) != list(range(height * width)):
        raise ConvscopeError(
            f"permute_pixels: expected a permutation of the {height * width} pixel positions "
            f"of {height}x{width} images, got {permutation.size} entries"
        )
    flat = images.reshape(images.shape[0], height * width, *images.shape[3:])
    return flat[:, permutation].reshape(images.shape)


def inverse_permutation(permutation: np.ndarray) -> np.ndarray:
    """The permutation that puts permuted pixels back in place."""
    return np.argsort(permutation)


def permute_splits(
    splits: Mapping[str, np.ndarray], image_shape: tuple[int, int], seed: int
) -> dict[str, np.ndarray]:
    """Every split's images (e.g. train, val, test) permuted by the one permutation of `seed`."""
    permutation = pixel_permutation(image_shape, seed)
    return {name: permute_pixels(images, permutation) for name, images in splits.items()}
