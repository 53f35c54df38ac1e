"""Plumbing shared by the stage entry points (`python -m convscope.<stage>`).

Every stage is a Hydra app composed from the repository's `conf/` folder. A
`ConvscopeError` raised by a stage becomes a one-line `error: ...` on stderr and exit
status 1, instead of a traceback.
"""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import hydra
from omegaconf import DictConfig

from convscope.errors import ConvscopeError
from convscope.models.config import register_configs as register_model_configs
from convscope.training.config import register_train_config

CONFIG_DIR = Path(__file__).resolve().parents[2] / "conf"

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
            print(f"error: {err}", file=sys.stderr, flush=True)
            sys.exit(1)

    return hydra.main(config_path=str(CONFIG_DIR), config_name="config", version_base="1.3")(run)
