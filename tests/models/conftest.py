"""Model configs as the YAML files in conf/model/ define them, with values overridden."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from omegaconf import OmegaConf

from convscope.cli import CONFIG_DIR
from convscope.config import group_config
from convscope.models.config import ModelConfig


@pytest.fixture
def model_cfg() -> Callable[..., ModelConfig]:
    """`model_cfg("lenet5", pooling="average")`: conf/model/lenet5.yaml with `pooling` set,
    checked as the stage checks it."""

    def make(yaml_name: str, /, **values: object) -> ModelConfig:
        yaml = OmegaConf.to_container(OmegaConf.load(CONFIG_DIR / "model" / f"{yaml_name}.yaml"))
        return group_config("model", ModelConfig, {**yaml, **values})

    return make
