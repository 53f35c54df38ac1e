"""The preprocess stage's records: `meta.json` beside the processed arrays, `summary.json` in
the reports.

`meta.json` holds the dataset's name, class names, image shape, image counts per split, the
training split's pixel mean and standard deviation on [0, 1], how the validation split was
cut, and the content checksums of the raw files the download verified, which the MLflow
dataset inputs use (`convscope.tracking.datasets`). Nothing that depends on the environment
(such as the mirror the files came from): the file is a DVC output.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from convscope.errors import ConvscopeError, rerun_hint
from convscope.records.files import read_json_record, write_json

META_FILE = "meta.json"  # in the processed-data folder
HINT = rerun_hint("preprocess")
META_KEYS = (
    "name",
    "class_names",
    "num_classes",
    "image_shape",
    "counts",
    "pixel_mean",
    "pixel_std",
)
# The four IDX files every dataset has: the keys of `data.files`, whose checksums the
# provenance records.
RAW_FILE_KEYS = ("train_images", "train_labels", "test_images", "test_labels")


@dataclass(frozen=True)
class Validation:
    """How the validation split was cut from the training files: its size and seed."""

    size: int
    seed: int


@dataclass(frozen=True)
class Source:
    """The raw files the data was made from: the SHA-256 of each one's decompressed content."""

    sha256: Mapping[str, str]  # by `RAW_FILE_KEYS`


@dataclass(frozen=True)
class DatasetMeta:
    """`meta.json`: what the processed dataset holds."""

    name: str
    class_names: tuple[str, ...]
    num_classes: int
    image_shape: tuple[int, ...]
    counts: Mapping[str, int]  # images per split
    pixel_mean: float
    pixel_std: float
    validation: Validation | None = None
    source: Source | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON object, keys in the order the file has always had."""
        data: dict[str, Any] = {
            "name": self.name,
            "class_names": list(self.class_names),
            "num_classes": self.num_classes,
            "image_shape": list(self.image_shape),
            "counts": dict(self.counts),
            "pixel_mean": self.pixel_mean,
            "pixel_std": self.pixel_std,
        }
        if self.validation is not None:
            data["validation"] = {"size": self.validation.size, "seed": self.validation.seed}
        if self.source is not None:
            data["source"] = {"sha256": dict(self.source.sha256)}
        return data

    def write(self, path: Path) -> None:
        """Write `meta.json` at `path` atomically."""
        write_json(path, self.to_dict())

    @classmethod
    def read(cls, path: Path, provenance: bool = False) -> DatasetMeta:
        """Read `meta.json`; with `provenance`, also require the validation split and the
        source of the raw files (what MLflow dataset inputs need). One-line errors."""
        path = Path(path)
        required = (*META_KEYS, "validation", "source") if provenance else META_KEYS
        data = read_json_record(path, required, HINT)
        source = data.get("source")
        if provenance and not _is_source(source):
            raise ConvscopeError(
                f"{path}: 'source' should hold 'sha256' of {', '.join(RAW_FILE_KEYS)}; {HINT}"
            )
        validation = data.get("validation")
        try:
            return cls(
                name=str(data["name"]),
                class_names=tuple(str(name) for name in data["class_names"]),
                num_classes=int(data["num_classes"]),
                image_shape=tuple(int(n) for n in data["image_shape"]),
                counts={str(split): int(n) for split, n in data["counts"].items()},
                pixel_mean=float(data["pixel_mean"]),
                pixel_std=float(data["pixel_std"]),
                validation=None
                if validation is None
                else Validation(int(validation["size"]), int(validation["seed"])),
                source=None
                if source is None
                else Source({k: str(v) for k, v in source["sha256"].items()}),
            )
        except (TypeError, ValueError, KeyError, AttributeError) as err:
            raise ConvscopeError(f"{path}: a value has the wrong type ({err}); {HINT}") from None


def _is_source(source: object) -> bool:
    return (
        isinstance(source, dict)
        and isinstance(source.get("sha256"), dict)
        and not set(RAW_FILE_KEYS) - set(source["sha256"])
    )


@dataclass(frozen=True)
class SplitFacts:
    """One split's image count, images per class and pixel mean/std on [0, 1]."""

    images: int
    class_counts: Mapping[str, int]
    pixel_mean: float
    pixel_std: float


@dataclass(frozen=True)
class DataSummary:
    """`reports/data/summary.json`: the facts of every split, for people."""

    dataset: str
    splits: Mapping[str, SplitFacts]

    def to_dict(self) -> dict[str, Any]:
        """The JSON object, keys in the order the file has always had."""
        return {
            "dataset": self.dataset,
            "splits": {
                name: {
                    "images": facts.images,
                    "class_counts": dict(facts.class_counts),
                    "pixel_mean": facts.pixel_mean,
                    "pixel_std": facts.pixel_std,
                }
                for name, facts in self.splits.items()
            },
        }

    def write(self, path: Path) -> None:
        """Write `summary.json` at `path` atomically."""
        write_json(path, self.to_dict())

    @classmethod
    def read(cls, path: Path) -> DataSummary:
        """Read `summary.json`; a missing or damaged file is a one-line error."""
        path = Path(path)
        data = read_json_record(path, ("dataset", "splits"), HINT)
        try:
            return cls(
                dataset=str(data["dataset"]),
                splits={
                    name: SplitFacts(
                        images=int(facts["images"]),
                        class_counts={k: int(v) for k, v in facts["class_counts"].items()},
                        pixel_mean=float(facts["pixel_mean"]),
                        pixel_std=float(facts["pixel_std"]),
                    )
                    for name, facts in data["splits"].items()
                },
            )
        except (TypeError, ValueError, KeyError, AttributeError) as err:
            raise ConvscopeError(f"{path}: a value has the wrong type ({err}); {HINT}") from None
