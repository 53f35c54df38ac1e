from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from convscope.errors import ConvscopeError
from convscope.studies.config import StudyConfig, check_positive, check_sizes

STUDIES = ("permutation", "translation", "data_size", "weight_sharing", "equal_params", "layers")


@pytest.mark.parametrize("study", STUDIES)
def test_every_study_yaml_checks_into_its_module(
    study: str, tiny_config: Callable[..., Any]
) -> None:
    config = tiny_config(f"study={study}", stage="study").study
    assert isinstance(config, StudyConfig)
    assert config.name == study
    assert type(config).__module__ == f"convscope.studies.{study}"
    assert config.CLAIM and config.TITLE


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["study=permutation", "study.seeds=0"], "study.seeds: expected a positive integer"),
        (["study=data_size", "study.sizes=[3000,600]"], "study.sizes: expected increasing"),
        (["study=data_size", "study.epochs=0"], "study.epochs: expected a positive integer"),
        (["study=translation", "study.headline_direction=up"], "study.headline_direction"),
        (["study=translation", "study.headline_pixels=9"], "study.headline_pixels: expected 1"),
        (["study=layers", "study.mass=1.5"], "study.mass: expected a fraction"),
    ],
)
def test_a_bad_study_value_is_one_line_naming_the_key(
    overrides: list[str], message: str, tiny_config: Callable[..., Any]
) -> None:
    with pytest.raises(ConvscopeError, match=message) as caught:
        tiny_config(*overrides, stage="study")
    assert "\n" not in str(caught.value)


def test_the_shared_checks() -> None:
    check_sizes("sizes", [600, 3000])
    check_positive("epochs", 3)
    for sizes in ([], [0, 10], [10, 10], [10, 5]):
        with pytest.raises(ConvscopeError, match=r"study\.sizes"):
            check_sizes("sizes", sizes)
    with pytest.raises(ConvscopeError, match=r"study\.epochs"):
        check_positive("epochs", True)
