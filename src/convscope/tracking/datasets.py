"""The data a run used, as MLflow dataset inputs (the UI's Dataset column).

Each split is an `mlflow.data.from_numpy` dataset named after the dataset (`mnist`), with a
digest derived from the checksums the download verified (recorded by preprocess in
`meta.json`), so nothing is hashed again, and as its source the mirror this environment fetches
the raw files from (`convscope.data.mirrors`), resolved when the run logs it: the mirror is
not in `meta.json`, a DVC output, whose hash must not depend on the environment. The same data
from two mirrors thus has the same digest and two sources. The input's tags carry the two full
checksums and how the split was derived.
"""

from __future__ import annotations

import hashlib
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import mlflow
import numpy as np
from mlflow import entities
from mlflow.data.numpy_dataset import NumpyDataset, from_numpy
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient
from mlflow.utils.mlflow_tags import MLFLOW_DATASET_CONTEXT

from convscope.data.config import DataConfig
from convscope.data.mirrors import source_uri
from convscope.records.dataset import META_FILE, DatasetMeta

# MLflow's input context (tag `mlflow.data.context`) of each processed split.
CONTEXTS = {"train": "training", "val": "validation", "test": "test"}
# The raw files (`data.files` keys) each split is made of: train and val split the training files.
RAW_FILES = {"train": "train", "val": "train", "test": "test"}
DIGEST_LENGTH = 10  # MLflow recommends at most 10 characters (mlflow.data.Dataset)


@dataclass(frozen=True)
class DatasetInput:
    """One split, ready for `mlflow.log_input(dataset, context, tags)`."""

    dataset: NumpyDataset
    context: str
    tags: dict[str, str]


def split_digest(images_sha256: str, labels_sha256: str, derivation: str) -> str:
    """The digest of a split: the first `DIGEST_LENGTH` hex digits of the SHA-256 of
    `"<images sha256>\\n<labels sha256>\\n<derivation>"`.

    The two checksums are those of the decompressed raw IDX files, verified at download;
    `derivation` says how the split was cut from them ("" for a file used whole), so the
    training and validation splits of the same files get different digests, as does a subset.
    """
    text = f"{images_sha256}\n{labels_sha256}\n{derivation}"
    return hashlib.sha256(text.encode()).hexdigest()[:DIGEST_LENGTH]


def derivation(
    split: str, meta: DatasetMeta, subset: int | None = None, transform: str | None = None
) -> str:
    """How `split` is cut from its raw files, e.g. "val of a stratified split (size 5000,
    seed 0)"; "" for the test split, which is its files whole; then `transform`, what a study
    did to the images (e.g. "pixels permuted (seed 0)")."""
    parts = []
    if split != "test":
        validation = meta.validation
        parts.append(
            f"{split} of a stratified split (size {validation.size}, seed {validation.seed})"
        )
        if subset is not None:
            parts.append(f"first {subset} images")
    if transform:
        parts.append(transform)
    return ", ".join(parts)


@dataclass(frozen=True)
class DataSource:
    """A processed folder's `meta.json` and where its raw files are fetched from (a URL)."""

    meta: DatasetMeta
    uri: str

    @property
    def class_names(self) -> tuple[str, ...]:
        return self.meta.class_names


def read_source(processed_dir: Path, data: DataConfig) -> DataSource:
    """`meta.json` of a processed folder (checked to hold the raw files' checksums), and the
    mirror of dataset config `data` this environment fetches from."""
    meta = DatasetMeta.read(processed_dir / META_FILE, provenance=True)
    return DataSource(meta, source_uri(data, processed_dir))


def split_input(
    source: DataSource,
    split: str,
    images: np.ndarray,
    labels: np.ndarray,
    subset: int | None = None,
    transform: str | None = None,
) -> DatasetInput:
    """`split`'s images and labels as a dataset input; `source` from `read_source`; `subset`
    and `transform` as in `derivation`.

    The arrays give only the schema and profile (shapes and sizes) the UI shows; the digest
    comes from the recorded checksums (see `split_digest`).
    """
    meta, raw = source.meta, RAW_FILES[split]
    checksums = meta.source.sha256
    images_sha256, labels_sha256 = checksums[f"{raw}_images"], checksums[f"{raw}_labels"]
    how = derivation(split, meta, subset, transform)
    with warnings.catch_warnings():
        # A file:// mirror matches two equivalent local-artifact source classes; MLflow warns
        # and picks one. Harmless, and noise in every stage log.
        warnings.filterwarnings("ignore", message="The specified dataset source can be interp")
        dataset = from_numpy(
            images,
            targets=labels,
            source=source.uri,
            name=meta.name,
            digest=split_digest(images_sha256, labels_sha256, how),
        )
    tags = {"split": split, "images_sha256": images_sha256, "labels_sha256": labels_sha256}
    if how:
        tags["derivation"] = how
    return DatasetInput(dataset, CONTEXTS[split], tags)


def log_inputs(items: list[DatasetInput]) -> None:
    """Log dataset inputs into the active MLflow run."""
    _despite_a_parallel_insert(
        lambda: mlflow.log_inputs(
            [item.dataset for item in items],
            contexts=[item.context for item in items],
            tags_list=[item.tags for item in items],
        )
    )


def log_inputs_to_run(client: MlflowClient, run_id: str, items: list[DatasetInput]) -> None:
    """Log dataset inputs into run `run_id`, active or finished, through the client."""
    inputs = [
        entities.DatasetInput(
            dataset=entities.Dataset(**item.dataset.to_dict()),
            tags=[
                entities.InputTag(key, value)
                for key, value in {**item.tags, MLFLOW_DATASET_CONTEXT: item.context}.items()
            ],
        )
        for item in items
    ]
    _despite_a_parallel_insert(lambda: client.log_inputs(run_id, datasets=inputs))


def _despite_a_parallel_insert(log: Callable[[], None]) -> None:
    """Run `log`, and once more if another process stored the same dataset meanwhile.

    MLflow's SQL store looks a dataset up by (experiment, name, digest) and inserts it when
    missing; parallel sweep jobs logging the same data can all miss it, and all but one insert
    then fail on the store's unique key. The second attempt finds the dataset and reuses it.
    """
    try:
        log()
    except MlflowException as err:
        message = str(err).lower()
        if "datasets" not in message or not ("unique" in message or "duplicate" in message):
            raise
        log()
