"""Connect to the MLflow tracking store and make sure the run's experiment exists."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import mlflow
import requests
from mlflow.environment_variables import MLFLOW_TRACKING_USERNAME
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient
from omegaconf import DictConfig

from convscope.errors import ConvscopeError, first_line

LOCAL_SCHEMES = ("sqlite:", "file:", "postgresql", "mysql", "mssql")
# The experiment's kind: model training, not GenAI (names from mlflow/server/js, 3.17). MLflow
# keeps it with the experiment for its clients; 3.17.2's own UI chooses the view from the
# browser's "GenAI / Model training" switch or the URL's `workflowType` instead (README).
EXPERIMENT_KIND_TAG = "mlflow.experimentKind"
MODEL_TRAINING_KIND = "custom_model_development"
SERVER_SCHEMES = ("http", "https")
PROBE_TIMEOUT_SECONDS = 10


def is_local_store(uri: str) -> bool:
    """True when the URI is a database or folder this process writes to directly (no server)."""
    return uri.startswith(LOCAL_SCHEMES) or "://" not in uri


def check_server_reachable(uri: str) -> None:
    """Raise a one-line ConvscopeError at once when the tracking server at `uri` does not answer.

    Written by hand because MLflow's client retries a refused or unanswered connection with
    exponential backoff (MLFLOW_HTTP_REQUEST_MAX_RETRIES, 7 by default: minutes) before it
    gives up, and a stage started against a server that is down should stop in seconds. One
    request without retries; any HTTP answer, even an error status, means the server is up.
    MLflow's retries stay in force for the run itself (a server restarting mid-training).
    """
    if urlsplit(uri).scheme not in SERVER_SCHEMES:
        return
    try:
        requests.get(f"{uri.rstrip('/')}/health", timeout=PROBE_TIMEOUT_SECONDS)
    except requests.exceptions.SSLError:
        return  # it answered; TLS settings (MLFLOW_TRACKING_INSECURE_TLS, ...) are MLflow's
    except requests.exceptions.Timeout:
        reason = f"no answer within {PROBE_TIMEOUT_SECONDS} s"
    except requests.exceptions.RequestException as err:
        errno_text = re.search(r"\[Errno -?\d+\] ([^'\")]+)", str(err))
        reason = errno_text.group(1) if errno_text else type(err).__name__
    else:
        return
    raise ConvscopeError(
        f"tracking.uri: cannot reach the MLflow tracking server at {uri} ({reason}); "
        "start it (scripts/tracking-server) or set MLFLOW_TRACKING_URI to one that runs"
    )


def refusal(err: BaseException, uri: str, action: str) -> ConvscopeError | None:
    """The one-line error for a tracking server that refused `action` (HTTP 401: no or a wrong
    login; 403: the user lacks the permission), naming the user; None for any other error.

    Credentials are MLflow's own: MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD.
    """
    status = err.get_http_status_code() if isinstance(err, MlflowException) else None
    user = MLFLOW_TRACKING_USERNAME.get()
    if status == 401:
        who = f"the login of user {user!r}" if user else "a request without login"
        return ConvscopeError(
            f"tracking.uri: the MLflow tracking server at {uri} refused {who} (401) to {action}; "
            "set MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD to a user of that server"
        )
    if status == 403:
        return ConvscopeError(
            f"tracking.uri: the MLflow tracking server at {uri} refused user {user!r} permission "
            f"to {action} (403); ask the server's admin to grant it (docs/team-server.md)"
        )
    return None


def connect(tracking: DictConfig) -> str:
    """Point MLflow at `tracking.uri`, create the experiment if needed, return its id.

    The experiment is marked as model training (`mlflow.experimentKind`), also when it
    exists without the tag; a kind set otherwise (e.g. by a user in the UI) is kept. On a
    tracking server the tag is written every time: that proves, before any work, that the
    user may write to the experiment (a login refused or read-only fails here, in one line).
    On a local store the experiment's artifacts go to `tracking.artifact_location`; on a
    tracking server the server decides where artifacts live. A server that does not answer
    fails at once (`check_server_reachable`).
    """
    uri = str(tracking.uri)
    check_server_reachable(uri)
    mlflow.set_tracking_uri(uri)
    name = str(tracking.experiment)
    try:
        # Creating the client opens the store: a bad path or a missing database driver fails here.
        client = MlflowClient(uri)
        experiment = client.get_experiment_by_name(name)
        if experiment is None:
            location = None
            if is_local_store(uri):
                location = Path(tracking.artifact_location).resolve().as_uri()
            try:
                return client.create_experiment(
                    name,
                    artifact_location=location,
                    tags={EXPERIMENT_KIND_TAG: MODEL_TRAINING_KIND},
                )
            except MlflowException:
                # Another process created it between our lookup and our create.
                experiment = client.get_experiment_by_name(name)
                if experiment is None:
                    raise
        if experiment.lifecycle_stage == "deleted":
            raise ConvscopeError(
                f"tracking.experiment: experiment {name!r} is deleted in {uri}; "
                "restore it (mlflow experiments restore) or choose another name"
            )
        if EXPERIMENT_KIND_TAG not in experiment.tags or not is_local_store(uri):
            kind = experiment.tags.get(EXPERIMENT_KIND_TAG, MODEL_TRAINING_KIND)
            client.set_experiment_tag(experiment.experiment_id, EXPERIMENT_KIND_TAG, kind)
        return experiment.experiment_id
    except (MlflowException, OSError, ImportError) as err:
        raise refusal(err, uri, f"write to experiment {name!r}") or ConvscopeError(
            f"tracking.uri: cannot use MLflow store {uri}: {first_line(err)}"
        ) from err
