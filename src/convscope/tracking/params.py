"""MLflow params from nested settings: flattened keys, values cut to MLflow's limit."""

from __future__ import annotations

from typing import Any

MAX_PARAM_LENGTH = 6000  # MLflow's limit on a param value


def flatten(data: Any, prefix: str = "") -> dict[str, str]:
    """Nested dicts as `{"<prefix>.<key>.<key>": "value"}` (without a prefix, `"<key>.<key>"`);
    an empty dict is a value of its own (`"{}"`)."""
    if not isinstance(data, dict) or not data:
        return {prefix: str(data)}
    flat: dict[str, str] = {}
    for key, value in data.items():
        flat.update(flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    return flat


def param_value(value: object) -> str:
    """`value` as an MLflow param value: a string of at most `MAX_PARAM_LENGTH` characters."""
    return str(value)[:MAX_PARAM_LENGTH]
