"""The `download` and `preprocess` stages as DVC and a user run them, on the real MNIST files
(DVC's first run of them is the suite's shared pipeline run)."""

from __future__ import annotations

import gzip
import hashlib
import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent
MNIST_TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]


def run(command: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)


@pytest.mark.slow
def test_dvc_ran_the_data_stages_with_the_known_facts_then_repro_is_up_to_date(
    mnist_pipeline,
) -> None:
    # The suite's one pipeline run (`dvc exp run` in a fresh project) ran both data stages.
    project, first = mnist_pipeline.project, mnist_pipeline.stdout
    assert "Running stage 'download'" in first
    assert "Running stage 'preprocess'" in first

    summary = json.loads((project.root / "reports" / "data" / "summary.json").read_text())
    splits = summary["splits"]
    assert splits["full_train"]["images"] == 60000
    assert splits["test"]["images"] == 10000
    assert list(splits["full_train"]["class_counts"].values()) == MNIST_TRAIN_COUNTS
    assert round(splits["full_train"]["pixel_mean"], 4) == 0.1307
    assert round(splits["full_train"]["pixel_std"], 4) == 0.3081
    processed = sorted(p.name for p in (project.root / "data" / "processed" / "mnist").iterdir())
    assert processed == sorted(
        [
            f"{split}_{kind}.npy"
            for split in ("train", "val", "test")
            for kind in ("images", "labels")
        ]
        + ["meta.json"]
    )

    second = project.run(str(BIN / "dvc"), "repro", "download", "preprocess")
    assert second.returncode == 0, second.stdout + second.stderr
    assert "Running stage" not in second.stdout
    assert "Stage 'download' didn't change, skipping" in second.stdout
    assert "Stage 'preprocess' didn't change, skipping" in second.stdout
    assert "Data and pipelines are up to date." in second.stdout


@pytest.mark.slow
def test_download_stage_fails_in_one_line_on_a_corrupted_mirror(
    mnist_mirror: Path, tmp_path: Path, stage_env: Callable
) -> None:
    mirror = tmp_path / "mirror"
    shutil.copytree(mnist_mirror, mirror)
    labels = mirror / "train-labels-idx1-ubyte.gz"
    content = bytearray(gzip.decompress(labels.read_bytes()))
    content[100] = (content[100] + 1) % 10  # one training label changed, still a valid file
    labels.chmod(0o644)
    labels.write_bytes(gzip.compress(bytes(content)))
    raw = tmp_path / "raw"

    result = run(
        [
            str(BIN / "python"),
            "-m",
            "convscope.download",
            "data=mnist",
            "data.mirrors=[]",
            f"paths.raw={raw}",
        ],
        tmp_path,
        stage_env(mirror),
    )

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.stderr
    assert "train-labels-idx1-ubyte.gz" in errors[0]
    assert "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5" in errors[0]
    assert hashlib.sha256(bytes(content)).hexdigest() in errors[0]
    # Files fetched before the bad one stay (they are verified); nothing else is left.
    assert sorted(p.name for p in raw.iterdir()) == ["train-images-idx3-ubyte.gz"]
