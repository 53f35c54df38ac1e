"""conf/data/fashion_mnist.yaml against Debian's dataset-fashion-mnist files (the offline way)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from omegaconf import OmegaConf

from convscope.data.download import MIRROR_ENV, download_from_config
from convscope.data.idx import read_labelled_images

CONFIG = Path(__file__).resolve().parents[2] / "conf" / "data" / "fashion_mnist.yaml"


def test_config_checksums_match_the_debian_files(
    fashion_mnist_mirror: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    data = OmegaConf.load(CONFIG)
    data.mirrors = []
    monkeypatch.setenv(MIRROR_ENV, str(fashion_mnist_mirror))
    download_from_config(data, tmp_path)
    images, labels = read_labelled_images(
        tmp_path / data.files.test_images.name,
        tmp_path / data.files.test_labels.name,
        tuple(data.image_shape),
        data.num_classes,
    )
    assert images.shape == (10000, 28, 28)
    assert np.bincount(labels).tolist() == [1000] * 10
    assert len(data.class_names) == data.num_classes
