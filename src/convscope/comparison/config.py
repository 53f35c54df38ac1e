"""Schema of the `compare` config group (`conf/compare/*.yaml`): types and checks that name
the bad key; every value lives in the YAML."""

from __future__ import annotations

from dataclasses import dataclass

from omegaconf import MISSING

from convscope.errors import ConvscopeError
from convscope.tracking.config import RegistryConfig


@dataclass
class CompareConfig:
    """How the compare stage draws its figures and registers the models."""

    gallery_max_tiles: int = MISSING  # first-layer kernels shown per model
    figure_dpi: int = MISSING
    alpha: float = MISSING  # significance level of the paired tests; intervals at 1 - alpha
    registry: RegistryConfig = MISSING

    def __post_init__(self) -> None:
        if not 0 < self.alpha < 1:
            raise ConvscopeError(
                f"compare.alpha: expected a significance level between 0 and 1 (exclusive), "
                f"got {self.alpha!r}"
            )
        for key in ("gallery_max_tiles", "figure_dpi"):
            value = getattr(self, key)
            if value < 1:
                raise ConvscopeError(f"compare.{key}: expected a positive integer, got {value!r}")
