"""Plumbing shared by the stage entry points (`python -m convscope.<stage>`).

Every stage is a Hydra app composed from the repository's `conf/` folder, whose config is
checked once, at the stage's entry, and handed to the stage as a typed `StageConfig`
(`convscope.config`). A `ConvscopeError` raised by a stage or by that check (unknown key,
wrong type, impossible value), and a config Hydra cannot compose (unknown option, bad
override), become a one-line `error: ...` on stderr and exit status 1, instead of a
traceback. `compose_stage_config(*overrides)` gives tests and benchmarks the same config
without a process.
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
from hydra import compose, initialize_config_dir
from hydra.core.hydra_config import HydraConfig
from hydra.errors import HydraException, MissingConfigException, OverrideParseException
from hydra.types import RunMode
from omegaconf import DictConfig
from omegaconf.errors import ConfigAttributeError, OmegaConfBaseException

from convscope.config import StageConfig, omegaconf_error_line, stage_config
from convscope.console import tensorflow_notices_filtered
from convscope.errors import ConvscopeError, first_line


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


def compose_config(*overrides: str, return_hydra_config: bool = False) -> DictConfig:
    """`conf/config.yaml` composed with Hydra `overrides`, as a stage composes it."""
    with initialize_config_dir(str(CONFIG_DIR), version_base="1.3"):
        return compose("config", overrides=list(overrides), return_hydra_config=return_hydra_config)


def compose_stage_config(*overrides: str) -> StageConfig:
    """The checked config a stage gets for Hydra `overrides` (for tests and benchmarks)."""
    return stage_config(compose_config(*overrides))


def stage(task: Callable[[StageConfig], Any]) -> Callable[[], Any]:
    """Turn `task(cfg)` into a Hydra app on `conf/config.yaml` that checks the config once,
    hands `task` the typed `StageConfig`, and turns user errors into one line."""

    @functools.wraps(task)
    def run(cfg: DictConfig) -> Any:
        try:
            return task(stage_config(cfg))
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
    if isinstance(cause, ConfigAttributeError) and "is not in struct" in str(cause):
        # An override of a key the composed config lacks (a typo, or another model's key).
        return f"{cause.full_key}: unknown key {cause.key!r}, not in conf/ (check the spelling)"
    if isinstance(cause, OmegaConfBaseException):
        in_file = re.match(r"In '([^']+)'", str(err))
        suffix = f" (in conf/{in_file.group(1)}.yaml)" if in_file else ""
        return omegaconf_error_line(cause) + suffix
    line = first_line(err)
    if isinstance(err, OverrideParseException):
        return f"override {err.override!r}: {line}"
    if isinstance(err, MissingConfigException) and err.options:
        return f"{line} (available: {', '.join(err.options)})"
    return line


def _exit_with(message: str) -> None:
    print(f"error: {message}", file=sys.stderr, flush=True)
    sys.exit(1)
