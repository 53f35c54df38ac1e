"""Turn the raw IDX files into train/val/test arrays, a summary of them and a sample grid."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from convscope.atomic import atomic_dir
from convscope.data.arrays import save_split
from convscope.data.config import DataConfig
from convscope.data.figures import save_sample_grid
from convscope.data.idx import read_labelled_images
from convscope.errors import ConvscopeError
from convscope.records.dataset import (
    META_FILE,
    RAW_FILE_KEYS,
    DatasetMeta,
    DataSummary,
    Source,
    SplitFacts,
    Validation,
)

log = logging.getLogger(__name__)


def stratified_split(
    labels: np.ndarray, size: int, seed: int, num_classes: int
) -> tuple[np.ndarray, np.ndarray]:
    """Split indices into (train, validation), `size` of them validation, stratified by class.

    Each class gets its share of `size` (largest remainders break ties, lower class first);
    which images of a class go to validation is drawn with `numpy.random.default_rng(seed)`.
    Both index arrays are sorted, so the original order is kept within each split.
    """
    if not 0 < size < len(labels):
        raise ConvscopeError(
            f"data.validation.size is {size}, expected between 1 and {len(labels) - 1} "
            f"(the training set has {len(labels)} images)"
        )
    counts = np.bincount(labels, minlength=num_classes)
    quotas = size * counts / counts.sum()
    taken = np.floor(quotas).astype(np.int64)
    by_remainder = np.argsort(-(quotas - taken), kind="stable")
    taken[by_remainder[: size - taken.sum()]] += 1
    emptied = np.flatnonzero((counts > 0) & (taken >= counts))
    if emptied.size:
        raise ConvscopeError(
            f"data.validation.size is {size}, which leaves no training image of class "
            f"{emptied[0]}; expected a smaller validation set"
        )
    rng = np.random.default_rng(seed)
    val = np.concatenate(
        [rng.permutation(np.flatnonzero(labels == cls))[:n] for cls, n in enumerate(taken)]
    )
    val.sort()
    is_train = np.ones(len(labels), dtype=bool)
    is_train[val] = False
    return np.flatnonzero(is_train), val


def pixel_stats(images: np.ndarray) -> tuple[float, float]:
    """Mean and (population) standard deviation of uint8 pixels scaled to [0, 1], exactly."""
    histogram = np.bincount(images.reshape(-1), minlength=256).astype(np.float64)
    values = np.arange(256, dtype=np.float64) / 255.0
    total = histogram.sum()
    mean = float(histogram @ values / total)
    variance = float(histogram @ (values - mean) ** 2 / total)
    return mean, variance**0.5


def describe_split(
    images: np.ndarray, labels: np.ndarray, class_names: Sequence[str]
) -> SplitFacts:
    """Image count, counts per class and pixel mean/std of one split."""
    mean, std = pixel_stats(images)
    per_class = np.bincount(labels, minlength=len(class_names))
    return SplitFacts(
        images=len(images),
        class_counts={name: int(n) for name, n in zip(class_names, per_class, strict=True)},
        pixel_mean=round(mean, 6),
        pixel_std=round(std, 6),
    )


def preprocess_dataset(
    data: DataConfig, raw_dir: Path, processed_dir: Path, reports_dir: Path
) -> DataSummary:
    """Read dataset `data`'s raw files, split and save them; return the summary it writes.

    Writes `processed_dir` (replaced as a whole), `reports_dir/summary.json` and
    `reports_dir/samples.png`.
    """
    class_names = list(data.class_names)
    num_classes = data.num_classes
    image_shape = tuple(data.image_shape)
    raw = {key: raw_dir / data.files[key].name for key in RAW_FILE_KEYS}
    full_train = read_labelled_images(
        raw["train_images"], raw["train_labels"], image_shape, num_classes
    )
    test = read_labelled_images(raw["test_images"], raw["test_labels"], image_shape, num_classes)
    size, seed = data.validation.size, data.validation.seed
    train_idx, val_idx = stratified_split(full_train[1], size, seed, num_classes)
    splits = {
        "train": (full_train[0][train_idx], full_train[1][train_idx]),
        "val": (full_train[0][val_idx], full_train[1][val_idx]),
        "test": test,
    }
    described = {name: describe_split(*arrays, class_names) for name, arrays in splits.items()}
    described["full_train"] = describe_split(*full_train, class_names)
    for name, facts in described.items():
        log.info(
            "%s: %d images, pixel mean %.4f, std %.4f",
            *(name, facts.images, facts.pixel_mean, facts.pixel_std),
        )

    meta = DatasetMeta(
        name=str(data.name),
        class_names=tuple(class_names),
        num_classes=num_classes,
        image_shape=image_shape,
        counts={name: described[name].images for name in splits},
        pixel_mean=described["train"].pixel_mean,
        pixel_std=described["train"].pixel_std,
        validation=Validation(size, seed),
        # The content checksums the download verified, for the MLflow dataset inputs'
        # digests (convscope.tracking.datasets). Not the mirror: it depends on the environment.
        source=Source(sha256={key: str(data.files[key].sha256).lower() for key in RAW_FILE_KEYS}),
    )
    with atomic_dir(processed_dir) as temp:
        for name, (images, labels) in splits.items():
            save_split(temp, name, images, labels)
        meta.write(temp / META_FILE)
    log.info("wrote %s", processed_dir)

    summary = DataSummary(dataset=str(data.name), splits=described)
    summary.write(reports_dir / "summary.json")
    save_sample_grid(
        *splits["train"],
        class_names,
        data.sample_grid.per_class,
        reports_dir / "samples.png",
        title=f"{data.name}: training images per class",
    )
    log.info("wrote %s and %s", reports_dir / "summary.json", reports_dir / "samples.png")
    return summary
