"""The Model Registry that `compare` fills: versions and their tags, the champion alias, a
prediction through `models:/mnist@champion`, idempotent reruns, and the skips and errors.

Real tiny models went through the real train, evaluate and compare stages in the suite's
shared pipeline run (`dvc exp run` in a git + DVC project with its own SQLite MLflow store);
compare's second run is on a copy of it.
"""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
from dataclasses import dataclass, replace
from pathlib import Path

import keras
import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient
from omegaconf import OmegaConf

from convscope.comparison.config import CompareConfig
from convscope.config import typed
from convscope.errors import ConvscopeError
from convscope.records.seeds import seed_dir
from convscope.tracking.registry import (
    LEAD_HOLDS,
    LEAD_TAG,
    LEAD_WITHIN_NOISE,
    Candidate,
    choose_champion,
    register_models,
)

MODELS = ("dense", "lenet5")
SEEDS = (42, 43)  # the shared pipeline's seeds=2: train.seed and the next
COMPARE_YAML = Path(__file__).resolve().parents[2] / "conf" / "compare" / "default.yaml"
REGISTRY = typed("compare", CompareConfig, OmegaConf.load(COMPARE_YAML)).registry


@dataclass(frozen=True)
class Pipeline:
    """A workspace after train, evaluate and compare (the registry as compare left it is in
    `after_first`), and `again`: a copy of it after a second run of compare."""

    root: Path
    processed: Path
    after_first: dict[str, list[tuple[str, str]]]
    again: Path

    @property
    def tracking_uri(self) -> str:
        return f"sqlite:///{self.root / 'mlflow.db'}"

    def run_file(self, name: str, seed: int) -> Path:
        return seed_dir(self.root / "models" / name, seed) / "run.json"

    def run_record(self, name: str, seed: int) -> dict:
        return json.loads(self.run_file(name, seed).read_text())

    def metrics(self, name: str, seed: int) -> dict:
        folder = seed_dir(self.root / "reports" / "evaluation" / name, seed)
        return json.loads((folder / "metrics.json").read_text())

    def candidates(self) -> list[Candidate]:
        return [
            Candidate(
                name=name,
                seed=seed,
                run_id=self.run_record(name, seed)["run_id"],
                model_uri=self.run_record(name, seed)["model_uri"],
                test_accuracy=self.metrics(name, seed)["test_accuracy"],
                run_file=self.run_file(name, seed),
            )
            for name in MODELS
            for seed in SEEDS
        ]

    def winner(self) -> tuple[str, bool]:
        """The model compare put first (with two models: the highest mean accuracy, which
        the verdict either backs or calls within the noise) and whether the verdict backs it."""
        table = pd.read_csv(self.root / "reports" / "comparison.csv")
        best = table.loc[table["mean_accuracy"].idxmax(), "model"]
        text = (self.root / "reports" / "comparison.md").read_text()
        return best, f"**{best} is more accurate than" in text


def registry_state(tracking_uri: str) -> dict[str, list[tuple[str, str]]]:
    """`{registered model: sorted [(version, source)]}`, plus each model's aliases."""
    client = MlflowClient(tracking_uri)
    state: dict[str, list[tuple[str, str]]] = {}
    for model in client.search_registered_models():
        versions = client.search_model_versions(f"name = '{model.name}'")
        state[model.name] = sorted((v.version, v.source) for v in versions)
        state[f"{model.name} aliases"] = sorted(model.aliases.items())
    return state


@pytest.fixture(scope="module")
def pipeline(mnist_workspace, tmp_path_factory: pytest.TempPathFactory) -> Pipeline:
    """The shared pipeline's dense and LeNet-5 models, two seeds each, trained, evaluated and
    compared; then compare run again on a copy of them, as `dvc repro --force compare` would."""
    again = mnist_workspace.copy(tmp_path_factory.mktemp("registry-again"))
    done = again.run("compare")
    assert done.returncode == 0, done.stderr[-3000:]
    after_first = registry_state(mnist_workspace.tracking_uri)
    return Pipeline(mnist_workspace.root, mnist_workspace.processed, after_first, again.root)


@dataclass(frozen=True)
class Retrained:
    """A copy of the shared pipeline in `root` whose winning model `name` was trained again
    (both seeds, on twice the images) and evaluated, then compared twice: first with
    `compare.registry.enabled=false` (the registry after it: `registry_off`), then as usual.
    `before` is the registry the copy started with."""

    root: Path
    name: str
    before: dict[str, list[tuple[str, str]]]
    registry_off: dict[str, list[tuple[str, str]]]

    @property
    def tracking_uri(self) -> str:
        return f"sqlite:///{self.root / 'mlflow.db'}"

    def model_uris(self) -> set[str]:
        """The retrained seeds' logged models."""
        files = [seed_dir(self.root / "models" / self.name, seed) / "run.json" for seed in SEEDS]
        return {json.loads(file.read_text())["model_uri"] for file in files}


@pytest.fixture(scope="module")
def retrained(
    mnist_workspace, tmp_path_factory: pytest.TempPathFactory, quick_timing: tuple[str, ...]
) -> Retrained:
    """The shared pipeline's winner retrained, evaluated and compared again, on a copy."""
    workspace = mnist_workspace.copy(tmp_path_factory.mktemp("retrained"))
    table = pd.read_csv(workspace.reports / "comparison.csv")
    name = table.loc[table["mean_accuracy"].idxmax(), "model"]
    seeds = f"seeds={len(SEEDS)}"
    for stage, settings in [
        ("train", ("train.subset=4000", "train.epochs=1", "train.verbose=0")),
        ("evaluate", quick_timing),
    ]:
        done = workspace.run(stage, f"model={name}", seeds, *settings)
        assert done.returncode == 0, done.stderr[-3000:]
    before = registry_state(mnist_workspace.tracking_uri)
    done = workspace.run("compare", "compare.registry.enabled=false")
    assert done.returncode == 0, done.stderr[-3000:]
    registry_off = registry_state(workspace.tracking_uri)
    done = workspace.run("compare")
    assert done.returncode == 0, done.stderr[-3000:]
    return Retrained(workspace.root, name, before, registry_off)


@pytest.mark.system
def test_with_the_registry_off_compare_registers_nothing(retrained) -> None:
    assert retrained.registry_off == retrained.before
    # Though there were new models, which compare registers when the registry is on.
    registered = {
        source
        for name, versions in retrained.registry_off.items()
        if not name.endswith(" aliases")
        for _, source in versions
    }
    assert retrained.model_uris().isdisjoint(registered)
    client = MlflowClient(retrained.tracking_uri)
    comparisons = client.search_runs(
        [client.get_experiment_by_name("mnist").experiment_id], "tags.stage = 'compare'"
    )
    assert len(comparisons) == 3  # the shared pipeline's, then both of this copy's


@pytest.mark.system
def test_a_retrain_adds_versions_and_moves_the_champion_to_the_winning_new_one(
    retrained,
) -> None:
    client = MlflowClient(retrained.tracking_uri)
    versions = client.search_model_versions(f"name = 'mnist-{retrained.name}'")
    before = {source for _, source in retrained.before[f"mnist-{retrained.name}"]}
    assert {version.source for version in versions} - before == retrained.model_uris()
    # More training images made the retrained model still the winner, so its best seed
    # (a new model) is the champion: a new version of `mnist` carries the alias.
    champion = client.get_model_version_by_alias("mnist", "champion")
    assert champion.tags["model"] == retrained.name
    assert champion.source in retrained.model_uris()
    old_versions = [int(version) for version, _ in retrained.before["mnist"]]
    assert int(champion.version) == max(old_versions) + 1
    assert int(dict(retrained.before["mnist aliases"])["champion"]) == max(old_versions)


@pytest.mark.slow
def test_each_seed_is_a_version_tagged_with_seed_accuracy_commit_and_stage(pipeline) -> None:
    client = MlflowClient(pipeline.tracking_uri)
    # The commit the training ran on: the project's (the stages ran in it).
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=pipeline.root, capture_output=True, text=True, check=True
    ).stdout.strip()
    for name in MODELS:
        versions = {
            v.tags["seed"]: v for v in client.search_model_versions(f"name = 'mnist-{name}'")
        }
        assert sorted(versions) == [str(seed) for seed in SEEDS]
        for seed in SEEDS:
            record, version = pipeline.run_record(name, seed), versions[str(seed)]
            assert record["model_uri"].startswith("models:/m-")
            assert version.source == record["model_uri"]
            assert version.run_id == record["run_id"]
            accuracy = pipeline.metrics(name, seed)["test_accuracy"]
            assert version.tags["test_accuracy"] == str(accuracy)
            assert version.tags["dvc_stage"] == f"train@{name}"
            assert version.tags["git_commit"] == head


@pytest.mark.slow
def test_champion_alias_is_the_winning_models_best_seed(pipeline) -> None:
    winner, backed = pipeline.winner()
    accuracies = {seed: pipeline.metrics(winner, seed)["test_accuracy"] for seed in SEEDS}
    best_seed = max(SEEDS, key=accuracies.get)
    champion = MlflowClient(pipeline.tracking_uri).get_model_version_by_alias("mnist", "champion")
    assert champion.source == pipeline.run_record(winner, best_seed)["model_uri"]
    assert (champion.tags["model"], champion.tags["seed"]) == (winner, str(best_seed))
    assert champion.tags["test_accuracy"] == str(accuracies[best_seed])
    assert champion.tags[LEAD_TAG] == (LEAD_HOLDS if backed else LEAD_WITHIN_NOISE)


@pytest.mark.slow
def test_champion_loads_by_alias_and_predicts_raw_test_digits(pipeline) -> None:
    images = np.load(pipeline.processed / "test_images.npy")[:500]
    labels = np.load(pipeline.processed / "test_labels.npy")[:500]
    assert images.dtype == np.uint8 and images.shape == (500, 28, 28)
    mlflow.set_tracking_uri(pipeline.tracking_uri)
    model = mlflow.pyfunc.load_model("models:/mnist@champion")
    probabilities = np.asarray(model.predict(images[..., np.newaxis].astype("float32")))
    assert probabilities.shape == (500, 10)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-4)
    assert (probabilities.argmax(axis=1) == labels).mean() > 0.5  # chance is 0.1
    # The very model the champion's training wrote to models/<name>/seed-<seed>/model.keras.
    best = MlflowClient(pipeline.tracking_uri).get_model_version_by_alias("mnist", "champion")
    keras_model = keras.models.load_model(
        seed_dir(pipeline.root / "models" / best.tags["model"], int(best.tags["seed"]))
        / "model.keras"
    )
    expected = keras_model.predict(images[..., np.newaxis].astype("float32"), verbose=0)
    np.testing.assert_allclose(probabilities, expected, atol=1e-5)


@pytest.mark.slow
def test_second_compare_registers_nothing_new(pipeline) -> None:
    names = ["mnist", *(f"mnist-{name}" for name in MODELS)]
    assert sorted(pipeline.after_first) == sorted([*names, *(f"{n} aliases" for n in names)])
    assert registry_state(f"sqlite:///{pipeline.again / 'mlflow.db'}") == pipeline.after_first
    assert len(pipeline.after_first["mnist"]) == 1
    assert all(len(pipeline.after_first[f"mnist-{name}"]) == len(SEEDS) for name in MODELS)


@pytest.mark.slow
def test_model_without_logged_model_is_skipped_and_champion_alias_dropped(
    pipeline, tmp_path: Path, caplog
) -> None:
    shutil.copy(pipeline.root / "mlflow.db", tmp_path / "mlflow.db")
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    candidates = pipeline.candidates()
    winner, backed = pipeline.winner()
    best = choose_champion(candidates, winner)
    # What the train stage writes with tracking.log_model=false: no model_uri.
    candidates = [replace(c, model_uri=None) if c is best else c for c in candidates]
    with caplog.at_level(logging.WARNING, logger="convscope.tracking.registry"):
        registered = register_models(candidates, REGISTRY, "mnist", uri, winner, backed)
    assert registered.champion is None and (best.name, best.seed) not in registered.versions
    assert f"{best.name} seed {best.seed}: not registered" in caplog.text
    after = registry_state(uri)
    assert after["mnist aliases"] == []
    assert after[f"mnist-{best.name}"] == pipeline.after_first[f"mnist-{best.name}"]


@pytest.mark.slow
def test_store_without_the_run_is_a_one_line_error_writing_nothing(
    pipeline, tmp_path: Path
) -> None:
    uri = f"sqlite:///{tmp_path / 'other.db'}"
    with pytest.raises(ConvscopeError) as caught:
        register_models(pipeline.candidates(), REGISTRY, "mnist", uri, "lenet5", True)
    message = str(caught.value)
    assert "\n" not in message
    assert str(pipeline.run_file("dense", SEEDS[0])) in message
    assert "tracking.uri" in message
    assert MlflowClient(uri).search_registered_models() == []


def test_champion_is_the_winning_models_most_accurate_seed_first_on_ties() -> None:
    def candidate(name: str, seed: int, accuracy: float) -> Candidate:
        run = f"run-{name}-{seed}"
        return Candidate(name, seed, run, f"models:/m-{run}", accuracy, Path("run.json"))

    # The other model's better seed does not matter: the verdict chose the model.
    candidates = [candidate("a", 42, 0.9), candidate("a", 43, 0.92), candidate("b", 42, 0.99)]
    assert (choose_champion(candidates, "a").name, choose_champion(candidates, "a").seed) == (
        "a",
        43,
    )
    tied = [candidate("a", 42, 0.95), candidate("a", 43, 0.95)]
    assert choose_champion(tied, "a").seed == 42
    with pytest.raises(ConvscopeError, match="'c'"):
        choose_champion(candidates, "c")


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("model_name", "{dataset}"),  # every architecture in one registered model
        ("model_name", "{dataset}-{arch}"),
        ("champion_name", "{dataset}-{model}"),
        ("champion_name", 7),
        ("enabled", "maybe"),
    ],
)
def test_bad_registry_setting_is_named(key: str, value: object) -> None:
    cfg = OmegaConf.load(COMPARE_YAML)
    cfg.registry[key] = value
    with pytest.raises(ConvscopeError, match=rf"^compare\.registry\.{key}: "):
        typed("compare", CompareConfig, cfg)
