"""The compare config: the shipped defaults pass, a bad value is named."""

from __future__ import annotations

from pathlib import Path

import pytest
from omegaconf import OmegaConf

from convscope.comparison.config import CompareConfig
from convscope.config import typed
from convscope.errors import ConvscopeError

DEFAULT = Path(__file__).resolve().parents[2] / "conf" / "compare" / "default.yaml"


def test_default_config_is_valid() -> None:
    settings = typed("compare", CompareConfig, OmegaConf.load(DEFAULT))
    assert settings.figure_dpi > 0
    assert settings.alpha == 0.05
    assert settings.registry.model("mnist", "lenet5") == "mnist-lenet5"
    assert settings.registry.champion("mnist") == "mnist"


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("figure_dpi", 0, "compare.figure_dpi: expected a positive integer, got 0"),
        ("figure_dpi", "high", "compare.figure_dpi: Value 'high' of type 'str' could not"),
        ("gallery_max_tiles", -3, "compare.gallery_max_tiles: expected a positive integer"),
        ("alpha", 0, "compare.alpha: expected a significance level between 0 and 1"),
        ("alpha", 1.5, "compare.alpha: expected a significance level between 0 and 1"),
        ("alpha", "often", "compare.alpha: Value 'often' of type 'str' could not"),
    ],
)
def test_bad_value_names_its_key(key: str, value: object, message: str) -> None:
    cfg = OmegaConf.load(DEFAULT)
    OmegaConf.update(cfg, key, value)
    with pytest.raises(ConvscopeError) as info:
        typed("compare", CompareConfig, cfg)
    assert str(info.value).startswith(message)
