"""Users of the team tracking server (`scripts/tracking-server`), run by its admin:

    python -m convscope.tracking.users add NAME [--experiment NAME:PERMISSION]...
                                                [--model NAME:PERMISSION]...
    python -m convscope.tracking.users grant NAME [--experiment ...] [--model ...]

`add` creates user NAME with the password read from stdin (a prompt without echo on a
terminal, else the first line), never from the command line, where `ps` would show it; then
both grant the permissions (READ, USE, EDIT, MANAGE or NO_PERMISSIONS) on experiments and
registered models, by name. An experiment that does not exist yet is created (as the stages
create it). A registered model is granted by name, before or after it exists.

The server, and the admin's login, come from MLflow's own variables: MLFLOW_TRACKING_URI,
MLFLOW_TRACKING_USERNAME, MLFLOW_TRACKING_PASSWORD (and MLFLOW_TRACKING_SERVER_CERT_PATH for
HTTPS). Everything else on the server reads with the default permission, READ.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Sequence

from mlflow.environment_variables import MLFLOW_TRACKING_URI
from mlflow.exceptions import MlflowException
from mlflow.server import get_app_client
from mlflow.server.auth.permissions import ALL_PERMISSIONS, DENY
from mlflow.tracking import MlflowClient

from convscope.errors import ConvscopeError, first_line
from convscope.tracking.store import EXPERIMENT_KIND_TAG, MODEL_TRAINING_KIND, refusal

PERMISSIONS = tuple(name for name in ALL_PERMISSIONS if name != DENY.name)


def grant_option(value: str) -> tuple[str, str]:
    """`NAME:PERMISSION` (the name may hold colons) as (name, permission)."""
    name, _, permission = value.rpartition(":")
    if not name or permission not in PERMISSIONS:
        raise argparse.ArgumentTypeError(
            f"expected NAME:PERMISSION with PERMISSION one of {', '.join(PERMISSIONS)}, "
            f"got {value!r}"
        )
    return name, permission


def parser() -> argparse.ArgumentParser:
    parse = argparse.ArgumentParser(
        prog="python -m convscope.tracking.users",
        description="Add a user of the team tracking server and grant permissions "
        "(admin login from MLFLOW_TRACKING_USERNAME / MLFLOW_TRACKING_PASSWORD).",
    )
    parse.add_argument("command", choices=("add", "grant"), help="add: create the user first")
    parse.add_argument("username")
    for option, what in (("--experiment", "an experiment"), ("--model", "a registered model")):
        parse.add_argument(
            option,
            action="append",
            default=[],
            type=grant_option,
            metavar="NAME:PERMISSION",
            help=f"grant PERMISSION on {what} (repeatable)",
        )
    return parse


def read_password(username: str) -> str:
    """The new user's password from stdin: prompted without echo on a terminal."""
    if sys.stdin.isatty():
        password = getpass.getpass(f"Password for {username}: ")
    else:
        password = sys.stdin.readline().rstrip("\n")
    if not password:
        raise ConvscopeError(f"{username}: expected a password on stdin, got an empty line")
    return password


def experiment_id(client: MlflowClient, name: str) -> str:
    """The id of experiment `name`, created (marked as model training) if it does not exist."""
    experiment = client.get_experiment_by_name(name)
    if experiment is not None:
        return experiment.experiment_id
    return client.create_experiment(name, tags={EXPERIMENT_KIND_TAG: MODEL_TRAINING_KIND})


def run(arguments: Sequence[str]) -> None:
    """Carry out one command line (see the module's docstring)."""
    options = parser().parse_args(arguments)
    uri = MLFLOW_TRACKING_URI.get()
    if not uri or not uri.startswith(("http://", "https://")):
        raise ConvscopeError(
            "MLFLOW_TRACKING_URI: expected the team server's http(s):// URL, "
            f"got {uri or 'nothing'}"
        )
    name = options.username
    password = read_password(name) if options.command == "add" else None
    auth = get_app_client("basic-auth", tracking_uri=uri)
    action = f"{options.command} user {name!r}"
    try:
        if password is not None:
            auth.create_user(name, password)
        tracking = MlflowClient(uri)
        for experiment, permission in options.experiment:
            action = f"grant {permission} on experiment {experiment!r}"
            auth.grant_user_permission(
                name, "experiment", experiment_id(tracking, experiment), permission
            )
        for model, permission in options.model:
            action = f"grant {permission} on registered model {model!r}"
            auth.grant_user_permission(name, "registered_model", model, permission)
    except MlflowException as err:
        raise refusal(err, uri, action) or ConvscopeError(
            f"{action} on {uri}: {first_line(err)}"
        ) from err


def main() -> None:
    try:
        run(sys.argv[1:])
    except ConvscopeError as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
