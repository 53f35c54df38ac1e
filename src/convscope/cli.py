"""Plumbing shared by the stage entry points (`python -m convscope.<stage>`).

Every stage is a Hydra app on its own primary config, `conf/<stage>.yaml`, which composes
only the config groups the stage reads. The composed config is checked once, at the stage's
entry, against the stage's schema (`convscope.config.stage_config`) and handed to the stage
as that typed object. A `ConvscopeError` raised by a stage or by that check (unknown key,
wrong type, impossible value), and a config Hydra cannot compose (unknown option, bad
override, a group the stage does not read), become a one-line `error: ...` on stderr and
exit status 1, instead of a traceback. So do a full disk, quota or file-size limit
(`convscope.atomic.is_disk_full`, naming the file); a training's MLflow store that stopped
answering is a ConvscopeError (`convscope.tracking.unavailable`). SIGTERM is handled as Ctrl-C
(`convscope.interrupt`): the stage stops, a training keeps its checkpoint and its run is
marked KILLED, and the exit status
is 130 (SIGINT) or 143 (SIGTERM), with one line. `Stage.config(*overrides)` gives tests and
benchmarks the same config without a process.
"""

from __future__ import annotations

import functools
import importlib
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, Generic, TypeVar

import hydra
from hydra import compose, initialize_config_dir
from hydra.core.hydra_config import HydraConfig
from hydra.errors import HydraException, MissingConfigException, OverrideParseException
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import ConfigAttributeError, ConfigKeyError, OmegaConfBaseException

from convscope.atomic import is_disk_full
from convscope.config import group_config, omegaconf_error_line, stage_config
from convscope.console import tensorflow_notices_filtered
from convscope.errors import ConvscopeError, first_line
from convscope.interrupt import exit_status, interrupt_signal, sigterm_raises

Schema = TypeVar("Schema")


def config_dir() -> Path:
    """The `conf/` folder of the working directory when it has one, else the repository's.

    Stages run from the repository root, and `dvc exp run --queue/--temp` runs them from a copy
    of it whose `conf/` holds the experiment's `-S` changes; the package itself may be installed
    (editable) from another checkout.
    """
    here = Path.cwd() / "conf"
    if (here / "paths").is_dir():
        return here
    return Path(__file__).resolve().parents[2] / "conf"


CONFIG_DIR = config_dir()


def compose_config(
    config_name: str, *overrides: str, return_hydra_config: bool = False
) -> DictConfig:
    """`conf/<config_name>.yaml` composed with Hydra `overrides`, as its stage composes it."""
    with initialize_config_dir(str(CONFIG_DIR), version_base="1.3"):
        return compose(
            config_name, overrides=list(overrides), return_hydra_config=return_hydra_config
        )


def group_option(group: str, option: str, schema: type[Schema], key: str) -> Schema:
    """`conf/<group>/<option>.yaml` checked against `schema` (its `_target_` class when
    `schema` is abstract), for a stage that reads several options of one group; `key` names
    the config value that asked for it in the error when there is no such option."""
    path = CONFIG_DIR / group / f"{option}.yaml"
    if not path.is_file():
        available = ", ".join(sorted(p.stem for p in path.parent.glob("*.yaml")))
        raise ConvscopeError(
            f"{key}: no {group} {option!r} (conf/{group}/{option}.yaml); available: {available}"
        )
    try:
        values = OmegaConf.to_container(OmegaConf.load(path), resolve=True)
    except OmegaConfBaseException as err:
        raise ConvscopeError(f"{path}: {first_line(err)}") from err
    assert isinstance(values, dict)
    return group_config(group, schema, values)


def compose_stage_config(stage: str, *overrides: str) -> Any:
    """The checked config of `python -m convscope.<stage>` for Hydra `overrides` (for tests
    and benchmarks: no process, no Hydra run)."""
    module = importlib.import_module(f"convscope.{stage}")
    return module.main.config(*overrides)


class Stage(Generic[Schema]):
    """A stage's entry point: calling it runs `task(config)` as a Hydra app on
    `conf/<config_name>.yaml`, with the config checked once against `schema`; user errors
    become one line."""

    def __init__(
        self, task: Callable[[Schema], Any], schema: type[Schema], config_name: str
    ) -> None:
        self.task, self.schema, self.config_name = task, schema, config_name
        functools.update_wrapper(self, task)

    def config(self, *overrides: str) -> Schema:
        """The checked config the stage gets for Hydra `overrides` (no process, no Hydra run)."""
        return stage_config(self.schema, compose_config(self.config_name, *overrides))

    def __call__(self) -> Any:
        # Wrapped as the task, so that Hydra names the job after the stage's module.
        @functools.wraps(self.task)
        def run(cfg: DictConfig) -> Any:
            try:
                return self.task(stage_config(self.schema, cfg))
            except Exception as err:
                line = user_error_line(err)
                if line is None:
                    raise
                if HydraConfig.get().mode == RunMode.MULTIRUN:
                    # One job of a sweep fails alone: Hydra records it and the other jobs run.
                    print(f"error: {line}", file=sys.stderr, flush=True)
                    raise
                _exit_with(line)

        app = hydra.main(
            config_path=str(CONFIG_DIR), config_name=self.config_name, version_base="1.3"
        )(run)
        # Hydra prints a composition error (unknown key, wrong type, unknown option, bad
        # override) over several lines, unless HYDRA_FULL_ERROR=1 makes it re-raise the
        # error: we set it and print one line. A user who set HYDRA_FULL_ERROR=1 gets the trace.
        wants_trace = os.environ.get("HYDRA_FULL_ERROR") == "1"
        os.environ["HYDRA_FULL_ERROR"] = "1"
        with tensorflow_notices_filtered(), sigterm_raises():
            try:
                return app()
            except (HydraException, OmegaConfBaseException) as err:
                if wants_trace:
                    raise
                _exit_with(config_error_line(err))
            except KeyboardInterrupt as err:
                if wants_trace:
                    raise
                _exit_with(
                    f"stopped by {interrupt_signal(err).name}; rerun the same command to "
                    "resume a training from its checkpoint",
                    status=exit_status(err),
                )


def stage(schema: type[Schema]) -> Callable[[Callable[[Schema], Any]], Stage[Schema]]:
    """Decorator: `task(cfg)` of module `convscope.<name>` as the `Stage` on `conf/<name>.yaml`
    whose config is checked against `schema`."""

    def wrap(task: Callable[[Schema], Any]) -> Stage[Schema]:
        # Run as `python -m convscope.<name>`, the module is `__main__`; its spec keeps the name.
        spec = getattr(sys.modules[task.__module__], "__spec__", None)
        module = spec.name if spec is not None else task.__module__
        return Stage(task, schema, module.rsplit(".", 1)[-1])

    return wrap


def user_error_line(err: Exception) -> str | None:
    """The one line for an error the user can act on, or None for a bug (a traceback)."""
    if isinstance(err, ConvscopeError):
        return str(err)
    if is_disk_full(err):
        assert isinstance(err, OSError)
        what = err.filename or "a file MLflow or a library was writing"
        return f"{what}: {os.strerror(err.errno).lower()}"
    return None


def config_error_line(err: HydraException | OmegaConfBaseException) -> str:
    """One line for a Hydra/OmegaConf error, naming the offending key when it is known."""
    # Hydra chains the OmegaConf error as __cause__ (overrides) or __context__ (YAML files).
    cause = err if isinstance(err, OmegaConfBaseException) else err.__cause__ or err.__context__
    if isinstance(cause, ConfigAttributeError) and "is not in struct" in str(cause):
        # An override of a key the composed config lacks (a typo, or another model's key).
        return f"{cause.full_key}: unknown key {cause.key!r}, not in conf/ (check the spelling)"
    if isinstance(cause, ConfigKeyError) and "is not in struct" in str(cause):
        # An override of a group the stage's config does not compose (it does not read it).
        return f"{cause.full_key}: not a config group of this stage ({first_line(err)})"
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


def _exit_with(message: str, status: int = 1) -> None:
    print(f"error: {message}", file=sys.stderr, flush=True)
    sys.exit(status)
