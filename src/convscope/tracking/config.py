"""Schemas of the `tracking` config group (`conf/tracking/*.yaml`) and of the Model Registry
settings (`compare.registry`): types and checks that name the bad key; every value lives in
the YAML."""

from __future__ import annotations

import string
from dataclasses import dataclass

from omegaconf import MISSING

from convscope.errors import ConvscopeError


@dataclass
class TrackingConfig:
    """Where and what MLflow records (see `conf/tracking/local.yaml`)."""

    uri: str = MISSING
    artifact_location: str = MISSING
    experiment: str = MISSING
    log_model: bool = MISSING
    # A training's learned kernels and feature maps as pictures (seconds per training).
    log_pictures: bool = MISSING
    feature_map_image: int = MISSING  # index in the test set
    # CPU, memory, disk and network use of training runs (MLflow system metrics), sampled
    # every `system_metrics_interval` seconds.
    system_metrics: bool = MISSING
    system_metrics_interval: float = MISSING

    def __post_init__(self) -> None:
        if self.feature_map_image < 0:
            raise ConvscopeError(
                f"tracking.feature_map_image: expected an index >= 0, got {self.feature_map_image}"
            )
        if self.system_metrics_interval <= 0:
            raise ConvscopeError(
                "tracking.system_metrics_interval: expected a positive number of seconds, "
                f"got {self.system_metrics_interval!r}"
            )


@dataclass
class RegistryConfig:
    """Whether and under which names the compare stage registers the models.

    `model_name` and `champion_name` are `str.format` patterns over `dataset` and `model`.
    """

    enabled: bool = MISSING
    model_name: str = MISSING
    champion_name: str = MISSING

    def __post_init__(self) -> None:
        _check_name_pattern("compare.registry.model_name", self.model_name, {"dataset", "model"})
        _check_name_pattern("compare.registry.champion_name", self.champion_name, {"dataset"})

    def model(self, dataset: str, model: str) -> str:
        """The registered model holding every version of architecture `model`."""
        return self.model_name.format(dataset=dataset, model=model)

    def champion(self, dataset: str) -> str:
        """The registered model whose alias `champion` is the dataset's most accurate model."""
        return self.champion_name.format(dataset=dataset)


def _check_name_pattern(key: str, value: str, fields: set[str]) -> None:
    """Raise `ConvscopeError` naming `key` unless `value` is a pattern using exactly `fields`."""
    expected = " and ".join(f"{{{field}}}" for field in sorted(fields))
    try:
        used = {field for _, field, _, _ in string.Formatter().parse(value) if field is not None}
    except ValueError:
        used = None
    if used != fields:
        raise ConvscopeError(f"{key}: expected a name pattern with {expected}, got {value!r}")
