"""meta.json and summary.json of the preprocess stage: round trips and the provenance check."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from convscope.errors import ConvscopeError
from convscope.records.dataset import (
    RAW_FILE_KEYS,
    DatasetMeta,
    DataSummary,
    Source,
    SplitFacts,
    Validation,
)

META = DatasetMeta(
    name="tiny",
    class_names=("a", "b"),
    num_classes=2,
    image_shape=(2, 3),
    counts={"train": 4, "val": 1, "test": 2},
    pixel_mean=0.5,
    pixel_std=0.25,
    validation=Validation(size=1, seed=0),
    source=Source({key: "0" * 64 for key in RAW_FILE_KEYS}),
)


def test_meta_round_trip_with_provenance(tmp_path: Path) -> None:
    path = tmp_path / "meta.json"
    META.write(path)
    assert list(json.loads(path.read_text()))[-2:] == ["validation", "source"]
    assert DatasetMeta.read(path, provenance=True) == META


def test_meta_without_provenance_is_refused_where_it_is_needed(tmp_path: Path) -> None:
    path = tmp_path / "meta.json"
    data = META.to_dict()
    data["source"] = {"sha256": {}}
    path.write_text(json.dumps(data))
    assert DatasetMeta.read(path).source is not None
    with pytest.raises(ConvscopeError, match="'source' should hold 'sha256' of train_"):
        DatasetMeta.read(path, provenance=True)


def test_summary_round_trip(tmp_path: Path) -> None:
    summary = DataSummary("tiny", {"train": SplitFacts(4, {"a": 2, "b": 2}, 0.5, 0.25)})
    summary.write(tmp_path / "summary.json")
    assert DataSummary.read(tmp_path / "summary.json") == summary
