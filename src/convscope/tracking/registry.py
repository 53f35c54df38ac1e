"""The MLflow Model Registry after `compare`: every model, and the dataset's champion.

Each seed's logged model (`models:/m-<id>`, which its training run logged and `run.json`
records) becomes a version of `<dataset>-<model>` (e.g. `mnist-lenet5`), tagged with its seed.
The champion is the winning model's best seed: the compare stage names the winning model (the
one the verdict calls more accurate than every other, else the highest mean accuracy, with a
`lead` tag saying it is within the noise). Its logged model is also a version of `<dataset>`
(e.g. `mnist`), which carries the alias `champion`: the versions of `mnist` are the succession
of champions, and `models:/mnist@champion` is the one to load. The names are patterns in
`conf/compare`.

Registering is idempotent: a logged model that is already a version of a registered model is
not registered again (`dvc repro` may rerun `compare` on unchanged models); only its tags are
brought up to date. A model trained with `tracking.log_model=false` has no logged model: it is
skipped with a warning, not an error, since that switch is a supported way to train.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import mlflow
from mlflow.entities.model_registry import ModelVersion
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from convscope.errors import ConvscopeError, first_line, rerun_hint
from convscope.tracking.config import RegistryConfig
from convscope.tracking.context import COMMIT_TAG, DIRTY_TAG
from convscope.tracking.store import refusal

CHAMPION_ALIAS = "champion"
LOGGED_MODEL_PREFIX = "models:/m-"
LEAD_TAG = "lead"  # on the champion's version: whether the verdict backs its model's lead
LEAD_HOLDS = "more accurate than every other model (paired tests)"
LEAD_WITHIN_NOISE = "highest mean accuracy, but within the noise of another model"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Candidate:
    """One evaluated seed of a model: its name, seed, training run, logged model and test
    accuracy."""

    name: str
    seed: int
    run_id: str
    model_uri: str | None  # None: trained with tracking.log_model=false
    test_accuracy: float
    run_file: Path  # the run.json it comes from, named in errors


@dataclass(frozen=True)
class Registered:
    """Where the registry holds the models: `{(model name, seed): version}` and the champion."""

    versions: dict[tuple[str, int], ModelVersion]
    champion: ModelVersion | None


def choose_champion(candidates: Sequence[Candidate], model: str) -> Candidate:
    """The seed of `model` (the winning model) that gets the `champion` alias: its highest
    test accuracy, the first in the given order on a tie."""
    seeds = [candidate for candidate in candidates if candidate.name == model]
    if not seeds:
        raise ConvscopeError(f"choose_champion: no candidate of the winning model {model!r}")
    return max(seeds, key=lambda candidate: candidate.test_accuracy)


def register_models(
    candidates: Sequence[Candidate],
    settings: RegistryConfig,
    dataset: str,
    tracking_uri: str,
    winner: str,
    lead_holds: bool,
) -> Registered:
    """Register every candidate's logged model and point `champion` at the best seed of
    `winner` (the model the comparison puts first; `lead_holds`: the verdict backs it).

    Everything is looked up and checked before anything is written, so a missing run or
    logged model fails in one line with the registry untouched.
    """
    mlflow.set_tracking_uri(tracking_uri)  # mlflow.register_model and the store use it
    client = MlflowClient(tracking_uri, registry_uri=tracking_uri)
    champion = choose_champion(candidates, winner)
    tags = {}
    for candidate in candidates:
        key = (candidate.name, candidate.seed)
        if candidate.model_uri is None:
            log.warning(
                "%s seed %d: not registered: its training logged no model "
                "(tracking.log_model=false)",
                candidate.name,
                candidate.seed,
            )
        else:
            tags[key] = _version_tags(client, candidate, tracking_uri)
    try:
        versions = {
            (candidate.name, candidate.seed): _ensure_version(
                client,
                settings.model(dataset, candidate.name),
                candidate,
                tags[(candidate.name, candidate.seed)],
                f"{candidate.name} trained on {dataset}: one version per training run (one per "
                "seed), tagged with its seed, test accuracy, git commit and DVC stage.",
            )
            for candidate in candidates
            if (candidate.name, candidate.seed) in tags
        }
        champion_name = settings.champion(dataset)
        if (champion.name, champion.seed) not in tags:
            _drop_champion_alias(client, champion_name, champion.name)
            return Registered(versions, None)
        lead = LEAD_HOLDS if lead_holds else LEAD_WITHIN_NOISE
        champion_tags = tags[(champion.name, champion.seed)] | {
            "model": champion.name,
            LEAD_TAG: lead,
        }
        version = _ensure_version(
            client,
            champion_name,
            champion,
            champion_tags,
            f"The winning {dataset} model of each comparison, its best seed (the `model` and "
            f"`seed` tags say which, `{LEAD_TAG}` whether the paired tests back its lead); "
            f"the alias `{CHAMPION_ALIAS}` is the current one.",
        )
        try:
            client.set_registered_model_alias(champion_name, CHAMPION_ALIAS, version.version)
        except MlflowException as err:
            action = (
                f"move the alias {champion_name}@{CHAMPION_ALIAS} to version {version.version} "
                f"(it needs MANAGE on registered model {champion_name!r})"
            )
            if (refused := refusal(err, tracking_uri, action)) is None:
                raise
            raise refused from None
    except MlflowException as err:
        raise refusal(err, tracking_uri, "write to the Model Registry") or ConvscopeError(
            f"tracking.uri: MLflow registry {tracking_uri}: {first_line(err)}"
        ) from err
    log.info(
        "Registered %s; champion %s (%s seed %d, test accuracy %.4f; %s): models:/%s@%s",
        ", ".join(f"{v.name} v{v.version}" for v in versions.values()),
        f"{champion_name} v{version.version}",
        champion.name,
        champion.seed,
        champion.test_accuracy,
        lead,
        champion_name,
        CHAMPION_ALIAS,
    )
    return Registered(versions, version)


def _version_tags(client: MlflowClient, candidate: Candidate, tracking_uri: str) -> dict[str, str]:
    """The version's tags, from the training run; fail in one line if the store lacks the run
    or its logged model (another store, or a deleted run)."""
    where = f"set tracking.uri to the store the training logged to, or retrain ({tracking_uri})"
    if not candidate.model_uri.startswith(LOGGED_MODEL_PREFIX):
        raise ConvscopeError(
            f"{candidate.run_file}: model_uri {candidate.model_uri!r} is not a logged-model URI "
            f"({LOGGED_MODEL_PREFIX}<id>); {rerun_hint(f'train@{candidate.name}')}"
        )
    try:
        run = client.get_run(candidate.run_id)
        logged = client.get_logged_model(candidate.model_uri.removeprefix("models:/"))
    except MlflowException as err:
        raise ConvscopeError(
            f"{candidate.run_file}: run {candidate.run_id} or its model {candidate.model_uri} is "
            f"not in the MLflow store ({first_line(err)}); {where}"
        ) from None
    if logged.source_run_id != candidate.run_id:
        raise ConvscopeError(
            f"{candidate.run_file}: model {candidate.model_uri} was logged by run "
            f"{logged.source_run_id}, not by run {candidate.run_id}; "
            f"{rerun_hint(f'train@{candidate.name}')}"
        )
    tags = {
        "seed": str(candidate.seed),
        "test_accuracy": str(candidate.test_accuracy),
        "dvc_stage": f"train@{candidate.name}",
    }
    if COMMIT_TAG in run.data.tags:
        tags["git_commit"] = run.data.tags[COMMIT_TAG]
    if DIRTY_TAG in run.data.tags:
        tags["git_dirty"] = run.data.tags[DIRTY_TAG]
    return tags


def _ensure_version(
    client: MlflowClient, name: str, candidate: Candidate, tags: dict[str, str], description: str
) -> ModelVersion:
    """The version of `name` holding the candidate's logged model, created if there is none;
    its tags set to `tags` either way (a re-evaluation may change the accuracy)."""
    _ensure_registered_model(client, name, description)
    # A version made from a logged model has that model's URI as source (the SQL store keeps
    # no model_id), and the logged model's run as run_id.
    existing = [
        version
        for version in client.search_model_versions(
            f"name = '{name}' and run_id = '{candidate.run_id}'"
        )
        if version.source == candidate.model_uri
    ]
    if existing:
        version = min(existing, key=lambda v: int(v.version))
        for key, value in tags.items():
            client.set_model_version_tag(name, version.version, key, value)
        return version
    return mlflow.register_model(candidate.model_uri, name, tags=tags)


def _ensure_registered_model(client: MlflowClient, name: str, description: str) -> None:
    """Create registered model `name` with `description` (shown on the Models page) if new."""
    try:
        client.get_registered_model(name)
    except MlflowException as err:
        if err.error_code != "RESOURCE_DOES_NOT_EXIST":
            raise
        client.create_registered_model(name, description=description)


def _drop_champion_alias(client: MlflowClient, name: str, champion: str) -> None:
    """Remove a `champion` alias left by an earlier comparison: the winning model's best seed
    has no logged model, and the alias must not name a model that lost."""
    log.warning(
        "%s: no %s alias: the winning model, %s, has no logged model",
        name,
        CHAMPION_ALIAS,
        champion,
    )
    try:
        aliases = client.get_registered_model(name).aliases
    except MlflowException as err:
        if err.error_code != "RESOURCE_DOES_NOT_EXIST":
            raise
        return  # no such registered model yet: nothing to drop
    if CHAMPION_ALIAS in aliases:
        client.delete_registered_model_alias(name, CHAMPION_ALIAS)
