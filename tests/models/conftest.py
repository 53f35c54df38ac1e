"""Model configs as the YAML files in conf/model/ define them, with values overridden."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from omegaconf import DictConfig, OmegaConf

from convscope.cli import CONFIG_DIR


@pytest.fixture
def model_cfg() -> Callable[..., DictConfig]:
    """`model_cfg("lenet5", pooling="average")`: conf/model/lenet5.yaml with `pooling` set."""

    def make(yaml_name: str, /, **values: object) -> DictConfig:
        cfg = OmegaConf.load(CONFIG_DIR / "model" / f"{yaml_name}.yaml")
        cfg.pop("defaults")
        return OmegaConf.merge(cfg, values)

    return make
