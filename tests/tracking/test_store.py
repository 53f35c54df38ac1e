"""The tracking store: which URIs are local, and `connect` on a real SQLite MLflow store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import mlflow
import pytest
from mlflow.tracking import MlflowClient
from omegaconf import DictConfig, OmegaConf
from support import mlflow_tracking_uri_kept

from convscope.errors import ConvscopeError
from convscope.tracking.store import connect, is_local_store


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A folder for one SQLite store shared by this module (creating one takes seconds)."""
    with mlflow_tracking_uri_kept():
        yield tmp_path_factory.mktemp("store")


def tracking(folder: Path, experiment: str, uri: str | None = None) -> DictConfig:
    """A `tracking` config node as conf/tracking/local.yaml composes it."""
    return OmegaConf.create(
        {
            "uri": uri or f"sqlite:///{folder / 'mlflow.db'}",
            "artifact_location": str(folder / "mlartifacts"),
            "experiment": experiment,
        }
    )


@pytest.mark.parametrize(
    ("uri", "local"),
    [
        ("sqlite:///mlflow.db", True),
        ("sqlite:////abs/path/mlflow.db", True),
        ("file:///tmp/mlruns", True),
        ("postgresql://user:pw@db:5432/mlflow", True),
        ("postgresql+psycopg2://user@db/mlflow", True),
        ("mysql://user@db/mlflow", True),
        ("mssql+pyodbc://user@db/mlflow", True),
        ("mlruns", True),
        ("/abs/mlruns", True),
        ("http://127.0.0.1:5000", False),
        ("https://tracking.example.org", False),
        ("databricks://profile", False),
    ],
)
def test_is_local_store(uri: str, local: bool) -> None:
    assert is_local_store(uri) is local


def test_connect_creates_the_experiment_with_its_artifact_location(store: Path) -> None:
    cfg = tracking(store, "fresh")

    experiment_id = connect(cfg)

    assert mlflow.get_tracking_uri() == cfg.uri
    experiment = MlflowClient(cfg.uri).get_experiment(experiment_id)
    assert experiment.name == "fresh"
    assert experiment.artifact_location == (store / "mlartifacts").resolve().as_uri()
    # Connecting again finds the same experiment instead of creating a second one.
    assert connect(cfg) == experiment_id
    assert [e.name for e in MlflowClient(cfg.uri).search_experiments()].count("fresh") == 1


def test_connect_relative_artifact_location_is_anchored_at_the_working_directory(
    store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(store)
    cfg = tracking(store, "relative")
    cfg.artifact_location = "relative-artifacts"

    experiment_id = connect(cfg)

    location = MlflowClient(cfg.uri).get_experiment(experiment_id).artifact_location
    assert location == (store / "relative-artifacts").resolve().as_uri()


def test_connect_keeps_an_existing_experiment_and_its_location(store: Path) -> None:
    uri = f"sqlite:///{store / 'mlflow.db'}"
    made = MlflowClient(uri).create_experiment("existing", artifact_location="file:///elsewhere")

    assert connect(tracking(store, "existing")) == made
    assert MlflowClient(uri).get_experiment(made).artifact_location == "file:///elsewhere"


def test_connect_to_a_deleted_experiment_says_how_to_restore_it(store: Path) -> None:
    cfg = tracking(store, "gone")
    client = MlflowClient(cfg.uri)
    client.delete_experiment(client.create_experiment("gone"))

    with pytest.raises(ConvscopeError) as info:
        connect(cfg)

    assert str(info.value) == (
        f"tracking.experiment: experiment 'gone' is deleted in {cfg.uri}; "
        "restore it (mlflow experiments restore) or choose another name"
    )


def test_connect_to_an_unusable_store_is_one_line_naming_tracking_uri(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the database's folder should be")
    uri = f"sqlite:///{blocker / 'mlflow.db'}"

    with pytest.raises(ConvscopeError) as info:
        connect(tracking(tmp_path, "any", uri=uri))

    message = str(info.value)
    assert message.startswith(f"tracking.uri: cannot use MLflow store {uri}: ")
    assert "\n" not in message
    assert not (blocker.parent / "mlartifacts").exists()
