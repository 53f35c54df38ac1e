"""Schema of the `data` config group (`conf/data/<dataset>.yaml`): types and checks that name
the bad key; every value lives in the YAML."""

from __future__ import annotations

import re
from dataclasses import dataclass

from omegaconf import MISSING

from convscope.errors import ConvscopeError
from convscope.records.dataset import RAW_FILE_KEYS

SHA256_PATTERN = re.compile(r"[0-9a-f]{64}")


@dataclass
class FileConfig:
    """One raw file: its name on the mirrors and the SHA-256 of its decompressed content."""

    name: str = MISSING
    sha256: str = MISSING


@dataclass
class DownloadConfig:
    """Retries of one mirror after a transient failure (see `convscope.data.download`)."""

    retries: int = MISSING
    backoff_seconds: float = MISSING
    timeout_seconds: float = MISSING


@dataclass
class ValidationConfig:
    """The validation set split off the training set, stratified by class."""

    size: int = MISSING
    seed: int = MISSING


@dataclass
class SampleGridConfig:
    """`reports/data/samples.png`: this many training images of each class."""

    per_class: int = MISSING


@dataclass
class DataConfig:
    """A dataset of four IDX files: what it holds, where to fetch it, how to split it."""

    name: str = MISSING
    image_shape: list[int] = MISSING  # height, width
    num_classes: int = MISSING
    class_names: list[str] = MISSING
    files: dict[str, FileConfig] = MISSING  # one per RAW_FILE_KEYS (the four IDX files)
    mirrors: list[str] = MISSING
    download: DownloadConfig = MISSING
    validation: ValidationConfig = MISSING
    sample_grid: SampleGridConfig = MISSING

    def __post_init__(self) -> None:
        if len(self.image_shape) != 2 or min(self.image_shape) < 1:
            raise ConvscopeError(
                f"data.image_shape: expected [height, width] of positive integers, "
                f"got {self.image_shape}"
            )
        if len(self.class_names) != self.num_classes:
            raise ConvscopeError(
                f"data.class_names has {len(self.class_names)} names, expected data.num_classes "
                f"= {self.num_classes}"
            )
        for key in RAW_FILE_KEYS:
            if key not in self.files:
                raise ConvscopeError(f"data.files.{key}: missing, expected {{name, sha256}}")
        for key, file in self.files.items():
            if not file.name:
                raise ConvscopeError(f"data.files.{key}.name is empty, expected the file's name")
            if not SHA256_PATTERN.fullmatch(file.sha256.lower()):
                raise ConvscopeError(
                    f"data.files.{key}.sha256 is {file.sha256!r}, expected 64 hexadecimal digits"
                )
        download = self.download
        if download.retries < 0 or download.backoff_seconds < 0 or download.timeout_seconds <= 0:
            raise ConvscopeError(
                f"data.download is {download}, expected retries >= 0, backoff_seconds >= 0 "
                "and timeout_seconds > 0"
            )
        if self.sample_grid.per_class < 1:
            raise ConvscopeError(
                f"data.sample_grid.per_class: expected a positive integer, "
                f"got {self.sample_grid.per_class}"
            )
