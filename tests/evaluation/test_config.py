"""The evaluate and compare configs: the shipped defaults pass, a bad value is named."""

from __future__ import annotations

from pathlib import Path

import pytest
from omegaconf import OmegaConf

from convscope.errors import ConvscopeError
from convscope.evaluation.config import compare_config, evaluate_config

CONF = Path(__file__).resolve().parents[2] / "conf"
DEFAULT = CONF / "evaluate" / "default.yaml"


def test_default_config_is_valid() -> None:
    settings = evaluate_config(OmegaConf.load(DEFAULT))
    assert settings.timing.throughput_batch_size == 256
    assert settings.timing.repeats >= 1


@pytest.mark.parametrize(
    ("key", "value", "named"),
    [
        ("batch_size", 0, "evaluate.batch_size"),
        ("misclassified", -1, "evaluate.misclassified"),
        ("timing.repeats", 0, "evaluate.timing.repeats"),
        ("timing.throughput_batch_size", "big", "evaluate.timing.throughput_batch_size"),
        ("timing.warmup", True, "evaluate.timing.warmup"),
    ],
)
def test_bad_value_names_its_key(key: str, value: object, named: str) -> None:
    cfg = OmegaConf.load(DEFAULT)
    OmegaConf.update(cfg, key, value)
    with pytest.raises(ConvscopeError, match=rf"^{named}: expected"):
        evaluate_config(cfg)


def test_compare_config_checks_its_values() -> None:
    cfg = OmegaConf.load(CONF / "compare" / "default.yaml")
    assert compare_config(cfg).figure_dpi > 0
    cfg.figure_dpi = "high"
    with pytest.raises(ConvscopeError, match=r"^compare.figure_dpi: expected a positive integer"):
        compare_config(cfg)
