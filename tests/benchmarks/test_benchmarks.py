"""The benchmarks run end to end on tiny settings and write a complete report.

No timing is asserted: the machine running the tests is shared and its speed varies.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def benchmarks(monkeypatch: pytest.MonkeyPatch):
    """The `benchmarks` package (it lives beside `src/`, not in the installed package)."""
    monkeypatch.syspath_prepend(str(REPO))
    import benchmarks.common

    return benchmarks.common


@pytest.fixture
def dvc_repo(tmp_path: Path) -> Path:
    """A one-stage DVC project (no git) whose pipeline is up to date."""
    repo = tmp_path / "dvc-project"
    repo.mkdir()
    (repo / "dvc.yaml").write_text(
        textwrap.dedent(
            """\
            stages:
              touch:
                cmd: python -c "open('out.txt', 'w').write('done')"
                outs:
                  - out.txt
            """
        )
    )
    dvc = str(Path(sys.executable).with_name("dvc"))
    for command in ([dvc, "init", "--no-scm", "-q"], [dvc, "repro", "-q"]):
        subprocess.run(command, cwd=repo, check=True, capture_output=True)
    return repo


def test_interleaved_alternates_order_and_warms_up_first(benchmarks) -> None:
    calls: list[str] = []
    variants = {name: (lambda name=name: calls.append(name) or len(calls)) for name in "ab"}
    warmups = {"a": lambda: calls.append("warm a")}

    results = benchmarks.interleaved(variants, repeats=3, warmups=warmups, progress=lambda _: None)

    assert calls == ["warm a", "b", "a", "b", "b", "a", "a", "b"]
    assert results == {"a": [3, 6, 7], "b": [4, 5, 8]}


def test_median(benchmarks) -> None:
    assert benchmarks.median([3.0, 1.0, 2.0]) == 2.0
    assert benchmarks.median([4.0, 1.0, 2.0, 3.0]) == 2.5


@pytest.mark.system
def test_quick_run_writes_every_section(
    tmp_path: Path, processed_mnist: Path, dvc_repo: Path
) -> None:
    report = tmp_path / "reports" / "benchmarks.md"
    command = [
        sys.executable,
        "-m",
        "benchmarks.run",
        "--quick",
        f"--processed={processed_mnist}",
        f"--out={report}",
        f"--repo={dvc_repo}",
    ]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]

    text = report.read_text()
    for heading in (
        "## Targets",
        "## Pipeline overhead",
        "## Time to accuracy",
        "## Steady-state training throughput",
        "## Use of the hardware",
        "## Orchestration",
        "## Training settings",
    ):
        assert heading in text, heading
    assert "| dense " in text and "stage fit img/s" in text
    assert "dvc repro (nothing changed)" in text and "not timed" not in text
    assert "python -m convscope.train --help" in text
    assert "% of matmul peak" in text
    # The quick mode runs no pipeline: its targets say so rather than pass.
    assert "| training, all models, one seed" in text and "not measured" in text
    assert not list(report.parent.glob(".*tmp*")), "temporary report file left behind"


def test_pipeline_table_sums_training_and_charges_the_rest_to_fixed_cost(
    benchmarks, tmp_path: Path
) -> None:
    from mlflow.tracking import MlflowClient

    from benchmarks.pipeline import pipeline_table
    from convscope.records.metrics import RECORD_FILE, EvaluationRecord, evaluation_dir
    from convscope.records.run import RUN_FILE, RunRecord
    from convscope.records.seeds import seed_dir
    from convscope.training.spans import metric_name

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    client = MlflowClient(uri)
    experiment = client.create_experiment("mnist", artifact_location=tmp_path.as_uri())
    # The fit call's seconds come from the run's span metric; the epochs' from run.json.
    for model, seconds, accuracy in (("dense", 20.0, 0.985), ("lenet5", 40.0, 0.990)):
        run_id = client.create_run(experiment).info.run_id
        client.log_metric(run_id, metric_name("fit"), seconds + 1)
        run_dir = seed_dir(tmp_path / "models" / model, 42)
        run_dir.mkdir(parents=True)
        RunRecord(run_id, uri, 5, seconds, seconds / 5).write(run_dir / RUN_FILE)
        record_dir = seed_dir(evaluation_dir(tmp_path / "reports", model), 42)
        record_dir.mkdir(parents=True)
        EvaluationRecord(
            **dict.fromkeys(("test_loss", "test_macro_f1", "latency_ms_batch1"), 0.1),
            **dict.fromkeys(("total_params", "conv_params", "dense_params"), 1),
            test_accuracy=accuracy,
            test_errors=10,
            macs_per_image=1,
            throughput_batch_size=256,
            throughput_images_per_s=1.0,
            model_size_bytes=1,
            train_seconds=seconds,
            seconds_per_epoch=seconds / 5,
            epochs=5,
            mlflow_run_id=run_id,
        ).write(record_dir / RECORD_FILE)

    table = pipeline_table(tmp_path, ["dense", "lenet5"], wall_seconds=100.0, seed=42)

    assert table["met"].tolist()[:2] == ["yes", "no"]  # targets 0.984 and 0.991
    total = table.iloc[-1]
    assert (total["training s"], total["epochs s"], total["fixed cost s"]) == (62.0, 60.0, 38.0)

    # Three runs become one table of medians, each figure's runs beside it.
    from benchmarks.pipeline import median_table

    slower = table.copy()
    slower.loc[len(slower) - 1, ["dvc repro wall s", "fixed cost s"]] = [130.0, 68.0]
    slower.loc[0, "test accuracy"] = 0.983
    merged = median_table([table, slower, slower])
    assert merged.iloc[-1]["fixed cost s"] == 68.0
    assert merged.iloc[-1]["fixed cost s, runs"] == "38.0, 68.0, 68.0"
    assert merged["met"].tolist()[:2] == ["no", "no"]  # dense's median 0.983 < 0.984


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--keep-clean-clone", "{new}"], "--keep-clean-clone {new}: only with --clean-clone"),
        (["--clean-clone", "--keep-clean-clone", "{old}"], "--keep-clean-clone {old}: exists"),
        (["--clean-clone"], "--clean-clone: not with --quick"),
    ],
)
def test_clean_clone_options_refuse_in_one_line_before_any_work(
    benchmarks, tmp_path: Path, options: list[str], message: str
) -> None:
    from benchmarks.run import main

    paths = {"new": tmp_path / "new", "old": tmp_path}
    argv = [option.format(**paths) for option in options]
    # --quick: were a check to give way, the run would be short, not a whole pipeline
    with pytest.raises(SystemExit) as stopped:
        main(["--quick", *argv, "--out", str(tmp_path / "report.md")])
    assert str(stopped.value).startswith(f"error: {message.format(**paths)}")
    assert "\n" not in str(stopped.value)
    assert not (tmp_path / "report.md").exists()
    assert not (tmp_path / "new").exists()


@pytest.mark.parametrize(
    ("flags", "units"),
    [
        ("fpu sse2 avx2 avx512f avx512_bf16 avx512bw", "AVX-512 (BF16)"),
        ("fpu sse2 avx2 avx512f avx512bw", "AVX-512"),
        ("fpu sse2 avx avx2 fma", "AVX2"),
        ("fpu sse2 avx", "no AVX2"),
        (None, "vector units unknown"),
    ],
)
def test_vector_units_name_the_widest_instructions(
    benchmarks, monkeypatch: pytest.MonkeyPatch, flags: str | None, units: str
) -> None:
    from benchmarks import common

    monkeypatch.setattr(common, "_cpuinfo", lambda field: flags if field == "flags" else None)
    assert common._vector_units() == units


def test_full_run_without_a_mirror_stops_at_once_in_one_line(
    benchmarks, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from benchmarks.run import main

    monkeypatch.delenv("CONVSCOPE_MIRROR", raising=False)
    with pytest.raises(SystemExit) as stopped:
        main(["--out", str(tmp_path / "report.md")])  # the full plan runs the pipeline
    assert (
        str(stopped.value)
        == "error: CONVSCOPE_MIRROR is not set: the pipeline benchmarks download MNIST"
    )
    assert not (tmp_path / "report.md").exists()
