"""The `tracking.system_metrics` settings: whether training runs record CPU, memory, disk
and network use (MLflow's system metrics, sampled with psutil), and how often."""

from __future__ import annotations

from omegaconf import DictConfig

from convscope.errors import ConvscopeError


def system_metrics_interval(tracking: DictConfig) -> float | None:
    """Seconds between samples, or None when `tracking.system_metrics` is false.

    Raises `ConvscopeError` naming the key when a setting has the wrong type or value.
    """
    enabled = tracking.get("system_metrics")
    if not isinstance(enabled, bool):
        raise ConvscopeError(f"tracking.system_metrics: expected true or false, got {enabled!r}")
    if not enabled:
        return None
    interval = tracking.get("system_metrics_interval")
    if isinstance(interval, bool) or not isinstance(interval, int | float) or interval <= 0:
        raise ConvscopeError(
            f"tracking.system_metrics_interval: expected a positive number of seconds, "
            f"got {interval!r}"
        )
    return float(interval)
