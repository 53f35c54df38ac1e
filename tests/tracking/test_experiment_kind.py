"""The experiment is a model-training experiment (`mlflow.experimentKind`): when the stages
create it, and when it already exists. (MLflow 3.17.2's UI opens the view its browser-side
"GenAI / Model training" switch or the URL's `workflowType` names, not this tag: see README.)"""

from __future__ import annotations

from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient
from omegaconf import OmegaConf

from convscope.tracking.store import EXPERIMENT_KIND_TAG, MODEL_TRAINING_KIND, connect


@pytest.fixture
def tracking(tmp_path: Path):
    """A tracking config on a fresh SQLite store (`connect` makes it MLflow's global URI; the
    suite's autouse `restore_mlflow_tracking_uri` puts that back)."""
    return OmegaConf.create(
        {
            "uri": f"sqlite:///{tmp_path / 'mlflow.db'}",
            "artifact_location": str(tmp_path / "mlartifacts"),
            "experiment": "mnist",
        }
    )


def kind(tracking, experiment_id: str) -> str | None:
    return MlflowClient(tracking.uri).get_experiment(experiment_id).tags.get(EXPERIMENT_KIND_TAG)


def test_the_tag_is_what_the_mlflow_ui_reads() -> None:
    # MLflow's names, checked in mlflow/server/js (3.17): the UI's kind selector writes this
    # tag with these values.
    assert (EXPERIMENT_KIND_TAG, MODEL_TRAINING_KIND) == (
        "mlflow.experimentKind",
        "custom_model_development",
    )


def test_a_new_experiment_is_created_as_model_training(tracking) -> None:
    experiment_id = connect(tracking)
    assert kind(tracking, experiment_id) == "custom_model_development"
    assert MlflowClient(tracking.uri).get_experiment(experiment_id).name == "mnist"


def test_an_existing_untagged_experiment_gets_the_tag(tracking) -> None:
    client = MlflowClient(tracking.uri)
    old_id = client.create_experiment("mnist")  # as made before this change: no kind
    run_id = client.create_run(old_id).info.run_id
    assert kind(tracking, old_id) is None

    assert connect(tracking) == old_id
    assert kind(tracking, old_id) == "custom_model_development"
    assert client.get_run(run_id).info.experiment_id == old_id  # same experiment, runs kept


def test_a_kind_chosen_otherwise_is_kept(tracking) -> None:
    client = MlflowClient(tracking.uri)
    chosen = client.create_experiment("mnist", tags={EXPERIMENT_KIND_TAG: "genai_development"})
    assert connect(tracking) == chosen
    assert kind(tracking, chosen) == "genai_development"
