from __future__ import annotations

import json
from pathlib import Path

import pytest

from convscope.errors import ConvscopeError
from convscope.records.study import STUDY_FILE, StudyRecord, study_dir, study_figures_dir

RECORD = StudyRecord(
    name="permutation",
    title="Spatial structure",
    claim="A dense unit cannot use the spatial structure of an image.",
    headline="dense 98% → 98%; lenet5 99% → 96%.",
    seeds=1,
    trainings=3,
    optimizer_steps=5160,
    images_evaluated=30000,
    seconds=12.5,
)


def test_a_record_reads_back_as_written(tmp_path: Path) -> None:
    path = study_dir(tmp_path, "permutation") / STUDY_FILE
    RECORD.write(path)
    assert StudyRecord.read(path) == RECORD
    assert path == tmp_path / "studies" / "permutation" / "study.json"
    assert study_figures_dir(tmp_path, "layers") == tmp_path / "figures" / "studies" / "layers"


def test_a_missing_or_damaged_record_is_one_line_naming_the_file_and_the_stage(
    tmp_path: Path,
) -> None:
    path = tmp_path / "studies" / "translation" / STUDY_FILE
    with pytest.raises(ConvscopeError, match=r"study\.json: missing; run `dvc repro study@trans"):
        StudyRecord.read(path)
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"name": "translation"}))
    with pytest.raises(ConvscopeError, match=r"lacks title, claim, headline") as caught:
        StudyRecord.read(path)
    assert "\n" not in str(caught.value)
    values = json.loads(json.dumps(RECORD.__dict__)) | {"seeds": "three"}
    path.write_text(json.dumps(values))
    with pytest.raises(ConvscopeError, match="wrong type"):
        StudyRecord.read(path)
