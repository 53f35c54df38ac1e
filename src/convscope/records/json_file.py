"""Read and write the small JSON records stages hand each other, or fail in one line."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from convscope.atomic import write_text
from convscope.errors import ConvscopeError


def write_json(path: Path, data: Any) -> None:
    """Atomically write `data` as indented JSON (keys in their given order) to `path`."""
    write_text(path, json.dumps(data, indent=2) + "\n")


def read_json_record(path: Path, required: Iterable[str], hint: str) -> dict[str, Any]:
    """Read a JSON object holding at least the `required` keys.

    A missing file, bad JSON, a non-object or a missing key is a `ConvscopeError` naming the
    file, followed by `hint` (how to recreate it).
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise ConvscopeError(f"{path}: missing; {hint}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ConvscopeError(f"{path}: not readable JSON ({err}); {hint}") from None
    if not isinstance(data, dict):
        raise ConvscopeError(f"{path}: expected a JSON object; {hint}")
    missing = [key for key in required if key not in data]
    if missing:
        raise ConvscopeError(f"{path}: lacks {', '.join(missing)}; {hint}")
    return data
