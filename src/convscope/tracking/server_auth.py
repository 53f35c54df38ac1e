"""The team tracking server's request check: MLflow's basic authentication, plus MANAGE for
moving an alias.

`scripts/tracking-server` names `authenticate_request` as the `authorization_function` of
MLflow's basic-auth app (its documented hook for custom authentication), which the app calls
before its own per-route permission checks. It runs only inside the server.

Why: MLflow 3.17's basic-auth app lets a user with EDIT on a registered model set any of its
aliases (`SetRegisteredModelAlias` requires `can_update`), and rename it
(`RenameRegisteredModel`, also `can_update`). `models:/<dataset>@champion` is what a deployment
loads, so both must need MANAGE: a rename would let an editor move the name, and with it the
alias, away. Deleting an alias, a version or the model already needs MANAGE in MLflow itself
(`can_delete`). Admins pass, as they pass every check of MLflow's app.
"""

from __future__ import annotations

from flask import Response, request
from mlflow.server.auth import (
    authenticate_request_basic_auth,
    authorize,
    make_forbidden_response,
    store,
)
from mlflow.server.auth.permissions import RESOURCE_TYPE_REGISTERED_MODEL
from mlflow.server.auth.requirements import Requirement
from werkzeug.datastructures import Authorization

# Request paths end so under /api/2.0 and /ajax-api/2.0 (and a --static-prefix).
MANAGE_ONLY_ROUTES = (
    ("POST", "/mlflow/registered-models/alias"),
    ("POST", "/mlflow/registered-models/rename"),
)


def authenticate_request() -> Authorization | Response:
    """The request's basic-auth login, or MLflow's 401; a 403 when it moves an alias (or
    renames a registered model) without MANAGE on that registered model."""
    authorization = authenticate_request_basic_auth()
    if isinstance(authorization, Response) or not _moves_an_alias():
        return authorization
    username = authorization.username
    if store.get_user(username).is_admin:
        return authorization
    name = str((request.get_json(silent=True) or {}).get("name", ""))
    model = (RESOURCE_TYPE_REGISTERED_MODEL, name)
    if name and authorize(username, model, [Requirement(*model, "manage")]):
        return authorization
    return make_forbidden_response()


def _moves_an_alias() -> bool:
    return any(
        request.method == method and request.path.endswith(suffix)
        for method, suffix in MANAGE_ONLY_ROUTES
    )
