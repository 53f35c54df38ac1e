"""Sharing data and models through the default DVC remote: push from one clone, pull in another.

Clone B gets the processed data and the trained model from the remote, and `dvc repro` there
runs nothing: no download (its MNIST mirror is an empty folder), no training (no MLflow run).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from convscope.data.download import MIRROR_ENV

SHARED = ("data/raw/mnist", "data/processed/mnist", "models/dense/seed-42/model.keras")


def files_of(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` (or `folder` itself), by relative path, with its bytes."""
    if folder.is_file():
        return {folder.name: folder.read_bytes()}
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@pytest.mark.slow
def test_dvc_push_then_pull_in_a_second_clone_makes_repro_a_no_op(
    trained_clone: Any,
) -> None:
    project, clone_a = trained_clone, trained_clone.clone_a
    project.run(["git", "push", "-q", "origin", "HEAD"], clone_a)
    pushed = project.run(["dvc", "push"], clone_a)
    assert "pushed" in pushed.stdout, pushed.stdout
    assert any(project.remote.rglob("*")), "the default remote, beside the clones, is empty"

    project.run(["git", "clone", "-q", "origin.git", "b"], project.root)
    clone_b = project.root / "b"
    empty_mirror = project.root / "empty-mirror"
    empty_mirror.mkdir()
    env_b = {**project.env, MIRROR_ENV: str(empty_mirror)}

    # What clone A ran and pushed: the dense model and the stages it depends on. A bare
    # `dvc pull` also asks for the outputs of stages clone A never ran, and fails on them.
    pulled = project.run(["dvc", "pull", "--with-deps", "train@dense"], clone_b, env_b)
    for path in SHARED:
        assert files_of(clone_b / path) == files_of(clone_a / path), path
    assert (clone_b / "models/dense/seed-42/run.json").read_text() == (
        clone_a / "models/dense/seed-42/run.json"
    ).read_text(), pulled.stdout

    status = project.run(["dvc", "status", "--with-deps", "train@dense"], clone_b, env_b)
    assert "Data and pipelines are up to date." in status.stdout, status.stdout
    repro = project.run(["dvc", "repro", "train@dense"], clone_b, env_b)
    assert "Running stage" not in repro.stdout, repro.stdout
    for stage in ("download", "preprocess", "train@dense"):
        assert f"Stage '{stage}' didn't change, skipping" in repro.stdout, repro.stdout
    assert not any(empty_mirror.iterdir())
    # No stage ran in clone B, so nothing opened its MLflow store.
    assert not (clone_b / "mlflow.db").exists()
    assert not (clone_b / "mlartifacts").exists()
