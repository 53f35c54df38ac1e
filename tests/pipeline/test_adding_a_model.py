"""Adding a model touches exactly four files: its module, its YAML, its test and params.yaml.

In a fresh copy of the project, a throwaway fourth model is added through those four files
only; the copy's own code then finds it (no list of models to extend anywhere else), DVC
plans its stages, its test passes and the real train stage trains it for one step.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from convscope.records.seeds import seed_dir

NAME = "tiny_mlp"
MODULE = """\
    \"\"\"A throwaway model: one small hidden layer.\"\"\"

    from __future__ import annotations

    from dataclasses import dataclass

    import keras
    from omegaconf import MISSING

    from convscope.models.config import ModelConfig, check_positive


    @dataclass
    class TinyMlpConfig(ModelConfig):
        \"\"\"`Flatten => FC(units) => FC(num_classes, softmax)`.\"\"\"

        units: int = MISSING

        def __post_init__(self) -> None:
            super().__post_init__()
            check_positive("units", self.units)

        def build(self, input_shape: tuple[int, int, int], num_classes: int) -> keras.Model:
            inputs = keras.Input(shape=input_shape, name="image")
            x = keras.layers.Rescaling(1.0 / 255, name="rescale")(inputs)
            x = keras.layers.Flatten(name="flatten")(x)
            x = keras.layers.Dense(self.units, activation="relu", name="fc1")(x)
            outputs = keras.layers.Dense(num_classes, activation="softmax", name="output")(x)
            return keras.Model(inputs, outputs, name=self.name)
    """
YAML = f"""\
    # A throwaway model: Flatten => FC(units) => FC(10, softmax).
    _target_: convscope.models.{NAME}.TinyMlpConfig
    name: {NAME}
    units: 8
    """
TEST = f"""\
    from convscope.models.{NAME} import TinyMlpConfig


    def test_parameter_count() -> None:
        model = TinyMlpConfig(name="{NAME}", units=8).build((28, 28, 1), 10)
        assert model.count_params() == (784 * 8 + 8) + (8 * 10 + 10)
    """


def git_changes(root: Path) -> set[str]:
    """Paths that differ from the copy's commit, untracked ones included."""
    status = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return {line[3:] for line in status.splitlines()}


@pytest.mark.system
def test_a_fourth_model_needs_its_module_yaml_test_and_params_only(
    project_copy: Callable[[Path], Path],
    stage_env: Callable[[Path | str], dict[str, str]],
    processed_mnist: Path,
    tmp_path: Path,
) -> None:
    root = project_copy(tmp_path / "project")
    added = {
        f"src/convscope/models/{NAME}.py": MODULE,
        f"conf/model/{NAME}.yaml": YAML,
        f"tests/models/test_{NAME}.py": TEST,
    }
    for path, text in added.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(textwrap.dedent(text))
    params = root / "params.yaml"
    plan = params.read_text()
    assert "  - stacked_conv\n" in plan
    params.write_text(plan.replace("  - stacked_conv\n", f"  - stacked_conv\n  - {NAME}\n", 1))
    assert git_changes(root) == {*added, "params.yaml"}

    # The copy runs its own src/ (the mirror is not used: the data is already processed).
    env = stage_env(processed_mnist) | {"PYTHONPATH": str(root / "src")}
    stages = subprocess.run(
        [sys.executable, "-m", "dvc", "stage", "list", "--name-only"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert {f"train@{NAME}", f"evaluate@{NAME}"} <= set(stages)

    tested = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            f"tests/models/test_{NAME}.py",
        ],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
    )
    assert tested.returncode == 0, tested.stdout[-3000:]

    trained = subprocess.run(
        [
            sys.executable,
            "-m",
            "convscope.train",
            f"model={NAME}",
            f"paths.processed={processed_mnist}",
            f"tracking.uri=sqlite:///{root / 'mlflow.db'}",
            "tracking.log_model=false",
            "train.subset=64",
            "train.batch_size=64",  # one step: 64 images, one batch, one epoch
            "train.epochs=1",
            "train.verbose=0",
        ],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert trained.returncode == 0, trained.stderr[-3000:]
    model_dir = seed_dir(root / "models" / NAME, 42)
    assert json.loads((model_dir / "run.json").read_text())["epochs"] == 1
    assert len(pd.read_csv(model_dir / "history.csv")) == 1
    assert (model_dir / "model.keras").is_file()
