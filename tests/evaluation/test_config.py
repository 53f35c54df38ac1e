"""The evaluate config: the shipped defaults pass, a bad value is named."""

from __future__ import annotations

from pathlib import Path

import pytest
from omegaconf import OmegaConf

from convscope.config import typed
from convscope.errors import ConvscopeError
from convscope.evaluation.config import EvaluateConfig

DEFAULT = Path(__file__).resolve().parents[2] / "conf" / "evaluate" / "default.yaml"


def test_default_config_is_valid() -> None:
    settings = typed("evaluate", EvaluateConfig, OmegaConf.load(DEFAULT))
    assert settings.timing.throughput_batch_size == 256
    assert settings.timing.repeats >= 1


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("batch_size", 0, "evaluate.batch_size: expected a positive integer, got 0"),
        ("misclassified", -1, "evaluate.misclassified: expected an integer >= 0, got -1"),
        ("verbose", 3, "evaluate.verbose: expected auto, 0, 1 or 2, got 3"),
        ("timing.repeats", 0, "evaluate.timing.repeats: expected a positive integer, got 0"),
        ("timing.warmup", -1, "evaluate.timing.warmup: expected an integer >= 0, got -1"),
        (
            "timing.throughput_batch_size",
            "big",
            "evaluate.timing.throughput_batch_size: Value 'big' of type 'str' could not be "
            "converted to Integer",
        ),
        (
            "timing.warmup",
            True,
            "evaluate.timing.warmup: Value 'True' of type 'bool' could not be converted to Integer",
        ),
    ],
)
def test_bad_value_names_its_key(key: str, value: object, message: str) -> None:
    cfg = OmegaConf.load(DEFAULT)
    OmegaConf.update(cfg, key, value)
    with pytest.raises(ConvscopeError) as info:
        typed("evaluate", EvaluateConfig, cfg)
    assert str(info.value) == message
