"""The IDX reader: real MNIST files, and every way a file can be broken."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import pytest

from convscope.data.idx import (
    IMAGES_MAGIC,
    LABELS_MAGIC,
    read_images,
    read_labelled_images,
    read_labels,
)
from convscope.errors import ConvscopeError

MNIST_TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]


def idx_bytes(magic: int, array: np.ndarray) -> bytes:
    """Encode a uint8 array as IDX content with the given magic number."""
    header = struct.pack(f">I{array.ndim}I", magic, *array.shape)
    return header + array.astype(np.uint8).tobytes()


def write_gz(path: Path, content: bytes) -> Path:
    path.write_bytes(gzip.compress(content))
    return path


@pytest.fixture
def images_file(tmp_path: Path) -> Path:
    images = np.arange(3 * 4 * 5, dtype=np.uint8).reshape(3, 4, 5)
    return write_gz(tmp_path / "images-idx3-ubyte.gz", idx_bytes(IMAGES_MAGIC, images))


@pytest.fixture
def labels_file(tmp_path: Path) -> Path:
    labels = np.array([0, 2, 1], dtype=np.uint8)
    return write_gz(tmp_path / "labels-idx1-ubyte.gz", idx_bytes(LABELS_MAGIC, labels))


def test_reads_the_real_mnist_training_set(mnist_mirror: Path) -> None:
    images, labels = read_labelled_images(
        mnist_mirror / "train-images-idx3-ubyte.gz",
        mnist_mirror / "train-labels-idx1-ubyte.gz",
        (28, 28),
        10,
    )
    assert images.shape == (60000, 28, 28)
    assert images.dtype == np.uint8
    assert np.bincount(labels).tolist() == MNIST_TRAIN_COUNTS
    assert round(images.mean() / 255, 4) == 0.1307


def test_reads_a_small_well_formed_pair(images_file: Path, labels_file: Path) -> None:
    images, labels = read_labelled_images(images_file, labels_file, (4, 5), 3)
    assert images.shape == (3, 4, 5)
    assert images[2, 3, 4] == 59
    assert labels.tolist() == [0, 2, 1]


def test_truncated_content_names_file_and_expected_size(tmp_path: Path) -> None:
    content = idx_bytes(IMAGES_MAGIC, np.zeros((3, 4, 5), np.uint8))
    path = write_gz(tmp_path / "short.gz", content[:-7])
    with pytest.raises(ConvscopeError, match=r"short\.gz: 69 bytes of content, expected 76"):
        read_images(path, (4, 5))


def test_truncated_gzip_stream_is_reported(images_file: Path) -> None:
    data = images_file.read_bytes()
    images_file.write_bytes(data[: len(data) // 2])
    with pytest.raises(ConvscopeError, match="damaged or truncated gzip data"):
        read_images(images_file, (4, 5))


def test_wrong_magic_number(labels_file: Path) -> None:
    with pytest.raises(
        ConvscopeError, match=r"labels-idx1-ubyte\.gz: magic number 0x00000801, expected 0x00000803"
    ):
        read_images(labels_file, (4, 5))


def test_header_shorter_than_its_dimensions(tmp_path: Path) -> None:
    path = write_gz(tmp_path / "tiny.gz", struct.pack(">I", IMAGES_MAGIC))
    with pytest.raises(ConvscopeError, match="4 bytes, too short for an IDX header of 16 bytes"):
        read_images(path, (4, 5))


def test_image_label_count_mismatch(images_file: Path, tmp_path: Path) -> None:
    labels = write_gz(tmp_path / "two.gz", idx_bytes(LABELS_MAGIC, np.array([0, 1], np.uint8)))
    with pytest.raises(ConvscopeError, match=r"holds 3 images but .*two\.gz holds 2 labels"):
        read_labelled_images(images_file, labels, (4, 5), 3)


def test_labels_out_of_range(labels_file: Path) -> None:
    with pytest.raises(
        ConvscopeError, match=r"label 2 at index 1 \(1 such labels\), expected labels in \[0, 2\)"
    ):
        read_labels(labels_file, num_classes=2)


def test_unexpected_image_shape(images_file: Path) -> None:
    with pytest.raises(ConvscopeError, match="images of 4x5 pixels, expected 28x28"):
        read_images(images_file, (28, 28))


def test_uncompressed_file_is_not_gzip(tmp_path: Path) -> None:
    path = tmp_path / "plain.gz"
    path.write_bytes(idx_bytes(LABELS_MAGIC, np.array([1], np.uint8)))
    with pytest.raises(ConvscopeError, match=r"plain\.gz: is not a gzip file \(starts with bytes"):
        read_labels(path, 10)


def test_html_error_page_is_recognised(tmp_path: Path) -> None:
    path = tmp_path / "train-labels-idx1-ubyte.gz"
    path.write_text("\n<!DOCTYPE html>\n<html><body><h1>503 Slow Down</h1></body></html>\n")
    with pytest.raises(ConvscopeError, match=r"is an HTML/XML page .*, not a gzip file"):
        read_labels(path, 10)


def test_empty_and_missing_files(tmp_path: Path) -> None:
    (tmp_path / "empty.gz").write_bytes(b"")
    with pytest.raises(ConvscopeError, match="is empty, expected a gzip file"):
        read_labels(tmp_path / "empty.gz", 10)
    with pytest.raises(ConvscopeError, match=r"absent\.gz: file not found"):
        read_labels(tmp_path / "absent.gz", 10)


def test_errors_are_one_line(tmp_path: Path) -> None:
    path = write_gz(tmp_path / "x.gz", b"\x00\x00\x08\x03" + b"\xff" * 20)
    with pytest.raises(ConvscopeError) as caught:
        read_images(path, (28, 28))
    assert "\n" not in str(caught.value)
