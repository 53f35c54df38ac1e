"""Each module's tests are found by name: `tests/<package>/test_<module>.py` tests
`src/convscope/<package>/<module>.py` (and `tests/benchmarks/test_<module>.py` tests
`benchmarks/<module>.py`). A test file that tests no single module says what it tests here."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TESTS = REPO / "tests"

# Folders whose tests cross modules by design: what each one tests.
CROSS_CUTTING_FOLDERS = {
    "pipeline": "the stages end to end, as `dvc repro` and `dvc exp run` run them",
    "dvc": "DVC's features on this pipeline: the queue and a remote",
    "faults": "faults during a stage: a full disk, signals, the tracking server away",
}
# Test files that cross modules: what each one tests.
CROSS_CUTTING_FILES = {
    "test_dvc_deps.py": "dvc.yaml's deps against every stage's import graph",
    "test_import_layers.py": "the layer contract of pyproject.toml (import-linter)",
    "test_layout.py": "this rule",
    "test_mnist_fixture.py": "the suite's MNIST fixtures (tests/conftest.py)",
    "test_readme.py": "README.md and docs/ against the committed reports",
    "benchmarks/test_benchmarks.py": "python -m benchmarks.run, its options and report",
    "models/test_builders.py": "every conf/model/*.yaml builds the model its module describes",
    "models/test_fit.py": "every conf/model/*.yaml trains on a few images",
    "sweeps/test_grid.py": "python -m convscope.sweep: a grid with Hydra's basic sweeper",
    "sweeps/test_optuna.py": "python -m convscope.sweep +hparams_search=lenet5_optuna",
    "sweeps/test_parallel.py": "python -m convscope.sweep with the joblib launcher",
    "sweeps/test_submitit.py": "python -m convscope.sweep with the submitit launcher",
    "tracking/test_experiment_kind.py": "the experiment kind tag that store.connect sets",
    "tracking/test_server.py": "scripts/tracking-server and convscope.tracking.users, for real",
}


def module_named_by(test_file: Path) -> Path:
    """The module `tests/<path>/test_<name>.py` is named after."""
    relative = test_file.relative_to(TESTS)
    name = relative.name.removeprefix("test_")
    if relative.parts[0] == "benchmarks":
        return REPO / "benchmarks" / name
    return REPO / "src" / "convscope" / relative.parent / name


def test_every_test_file_names_its_module_or_says_what_it_tests() -> None:
    unnamed = []
    for test_file in sorted(TESTS.rglob("test_*.py")):
        relative = test_file.relative_to(TESTS)
        if relative.parts[0] in CROSS_CUTTING_FOLDERS or str(relative) in CROSS_CUTTING_FILES:
            continue
        if not module_named_by(test_file).is_file():
            unnamed.append(str(relative))
    assert not unnamed, f"tests named after no module (rename, or list them here): {unnamed}"


def test_every_listed_exception_exists() -> None:
    missing = [name for name in CROSS_CUTTING_FILES if not (TESTS / name).is_file()]
    missing += [name for name in CROSS_CUTTING_FOLDERS if not (TESTS / name).is_dir()]
    assert not missing, f"listed in tests/test_layout.py but gone: {missing}"
