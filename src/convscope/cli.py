"""Plumbing shared by the stage entry points (`python -m convscope.<stage>`).

Every stage is a Hydra app composed from the repository's `conf/` folder. A
`ConvscopeError` raised by a stage, and a config Hydra cannot compose (unknown key, wrong
type, unknown option, bad override), become a one-line `error: ...` on stderr and exit
status 1, instead of a traceback.
"""

from __future__ import annotations

import functools
import logging
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.errors import HydraException, MissingConfigException, OverrideParseException
from hydra.types import RunMode
from omegaconf import DictConfig
from omegaconf.errors import OmegaConfBaseException

from convscope.console import tensorflow_notices_filtered
from convscope.errors import ConvscopeError, first_line
from convscope.models.config import omegaconf_error_line
from convscope.models.config import register_configs as register_model_configs
from convscope.training.config import register_train_config


def config_dir() -> Path:
    """The `conf/` folder of the working directory when it has one, else the repository's.

    Stages run from the repository root, and `dvc exp run --queue/--temp` runs them from a copy
    of it whose `conf/` holds the experiment's `-S` changes; the package itself may be installed
    (editable) from another checkout.
    """
    here = Path.cwd() / "conf"
    if (here / "config.yaml").is_file():
        return here
    return Path(__file__).resolve().parents[2] / "conf"


CONFIG_DIR = config_dir()

log = logging.getLogger(__name__)


def stage(task: Callable[[DictConfig], Any]) -> Callable[[], Any]:
    """Turn `task(cfg)` into a Hydra app on `conf/config.yaml` with one-line user errors."""
    register_model_configs()
    register_train_config()

    @functools.wraps(task)
    def run(cfg: DictConfig) -> Any:
        try:
            return task(cfg)
        except ConvscopeError as err:
            if HydraConfig.get().mode == RunMode.MULTIRUN:
                # One job of a sweep fails alone: Hydra records it and the other jobs run.
                print(f"error: {err}", file=sys.stderr, flush=True)
                raise
            _exit_with(str(err))

    app = hydra.main(config_path=str(CONFIG_DIR), config_name="config", version_base="1.3")(run)

    @functools.wraps(task)
    def main() -> Any:
        # Hydra prints a composition error (unknown key, wrong type, unknown option, bad
        # override) over several lines, unless HYDRA_FULL_ERROR=1 makes it re-raise the
        # error: we set it and print one line. A user who set HYDRA_FULL_ERROR=1 gets the trace.
        wants_trace = os.environ.get("HYDRA_FULL_ERROR") == "1"
        os.environ["HYDRA_FULL_ERROR"] = "1"
        with tensorflow_notices_filtered():
            try:
                return app()
            except (HydraException, OmegaConfBaseException) as err:
                if wants_trace:
                    raise
                _exit_with(config_error_line(err))

    return main


def config_error_line(err: HydraException | OmegaConfBaseException) -> str:
    """One line for a Hydra/OmegaConf error, naming the offending key when it is known."""
    # Hydra chains the OmegaConf error as __cause__ (overrides) or __context__ (YAML files).
    cause = err if isinstance(err, OmegaConfBaseException) else err.__cause__ or err.__context__
    if isinstance(cause, OmegaConfBaseException):
        in_file = re.match(r"In '([^']+)'", str(err))
        suffix = f" (in conf/{in_file.group(1)}.yaml)" if in_file else ""
        return omegaconf_error_line(cause) + suffix
    line = first_line(err)
    if isinstance(err, OverrideParseException):
        return f"override {err.override!r}: {line}"
    if isinstance(err, MissingConfigException) and err.options:
        options = [name for name in err.options if not name.endswith("_schema")]
        return f"{line} (available: {', '.join(options)})"
    return line


def _exit_with(message: str) -> None:
    print(f"error: {message}", file=sys.stderr, flush=True)
    sys.exit(1)
