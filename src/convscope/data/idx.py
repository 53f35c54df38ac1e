"""Read gzip-compressed IDX files (the MNIST file format), validating every byte count.

IDX layout: a 4-byte big-endian magic number `0x0000TTNN` (TT = element type, 0x08 for
unsigned bytes; NN = number of dimensions), NN big-endian uint32 dimension sizes, then the
elements in C order. Images are 3-dimensional (count, rows, columns), labels 1-dimensional.
"""

from __future__ import annotations

import gzip
import math
import struct
import zlib
from pathlib import Path

import numpy as np

from convscope.errors import ConvscopeError

IMAGES_MAGIC = 0x00000803
LABELS_MAGIC = 0x00000801
GZIP_MAGIC = b"\x1f\x8b"


class InvalidFileError(ConvscopeError):
    """A data file whose content is not what it should be; `reason` says how, without the path."""

    def __init__(self, path: Path | str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.reason = reason


def describe_non_gzip(head: bytes) -> str:
    """Say what the first bytes of a file that should be gzip look like instead."""
    if not head:
        return "is empty, expected a gzip file"
    text = head.lstrip().lower()
    if text.startswith((b"<!doctype html", b"<html", b"<?xml")) or b"<html" in text:
        return "is an HTML/XML page (a server's error page?), not a gzip file"
    return f"is not a gzip file (starts with bytes {head[:4].hex()}, expected {GZIP_MAGIC.hex()})"


def read_gzip(path: Path) -> bytes:
    """Return the decompressed content of `path`, refusing anything but one whole gzip file."""
    try:
        with path.open("rb") as raw:
            head = raw.read(512)
    except FileNotFoundError:
        raise InvalidFileError(path, "file not found") from None
    except OSError as err:
        raise InvalidFileError(path, f"cannot be read ({err.strerror})") from None
    if not head.startswith(GZIP_MAGIC):
        raise InvalidFileError(path, describe_non_gzip(head))
    try:
        with gzip.open(path, "rb") as stream:
            return stream.read()
    except (EOFError, gzip.BadGzipFile, zlib.error) as err:
        raise InvalidFileError(path, f"damaged or truncated gzip data ({err})") from None


def parse_idx(content: bytes, path: Path, magic: int) -> np.ndarray:
    """Parse decompressed IDX `content` that must carry `magic`; `path` names it in errors."""
    kind = {IMAGES_MAGIC: "images", LABELS_MAGIC: "labels"}.get(magic, "IDX")
    if len(content) < 4:
        raise InvalidFileError(
            path, f"only {len(content)} bytes of content, expected an IDX {kind} file"
        )
    found = int.from_bytes(content[:4], "big")
    if found != magic:
        raise InvalidFileError(
            path, f"magic number 0x{found:08x}, expected 0x{magic:08x} (IDX {kind} file)"
        )
    ndim = magic & 0xFF
    header_size = 4 + 4 * ndim
    if len(content) < header_size:
        raise InvalidFileError(
            path, f"{len(content)} bytes, too short for an IDX header of {header_size} bytes"
        )
    dims = struct.unpack(f">{ndim}I", content[4:header_size])
    expected_size = header_size + math.prod(dims)
    if len(content) != expected_size:
        raise InvalidFileError(
            path,
            f"{len(content)} bytes of content, expected {expected_size} "
            f"for a header plus dimensions {'x'.join(map(str, dims))}",
        )
    return np.frombuffer(content, dtype=np.uint8, offset=header_size).reshape(dims)


def read_images(path: Path, image_shape: tuple[int, ...]) -> np.ndarray:
    """Read an IDX images file into a read-only uint8 array of shape (count, *image_shape)."""
    images = parse_idx(read_gzip(path), path, IMAGES_MAGIC)
    if images.shape[1:] != tuple(image_shape):
        raise InvalidFileError(
            path,
            f"images of {'x'.join(map(str, images.shape[1:]))} pixels, "
            f"expected {'x'.join(map(str, image_shape))} (data.image_shape)",
        )
    return images


def read_labels(path: Path, num_classes: int) -> np.ndarray:
    """Read an IDX labels file into a read-only uint8 array, each label in [0, num_classes)."""
    labels = parse_idx(read_gzip(path), path, LABELS_MAGIC)
    out_of_range = np.flatnonzero(labels >= num_classes)
    if out_of_range.size:
        first = out_of_range[0]
        raise InvalidFileError(
            path,
            f"label {labels[first]} at index {first} ({out_of_range.size} such labels), "
            f"expected labels in [0, {num_classes}) (data.num_classes)",
        )
    return labels


def read_labelled_images(
    images_path: Path, labels_path: Path, image_shape: tuple[int, ...], num_classes: int
) -> tuple[np.ndarray, np.ndarray]:
    """Read a matching pair of IDX images and labels files; their counts must agree."""
    images = read_images(images_path, image_shape)
    labels = read_labels(labels_path, num_classes)
    if len(images) != len(labels):
        raise ConvscopeError(
            f"{images_path} holds {len(images)} images but {labels_path} holds "
            f"{len(labels)} labels, expected one label per image"
        )
    return images, labels
