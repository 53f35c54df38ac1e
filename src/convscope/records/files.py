"""Read and write the files stages hand each other, or fail in one line naming the file."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

from convscope.atomic import write_text
from convscope.errors import ConvscopeError, first_line

T = TypeVar("T")


def read_or_fail(
    path: Path, read: Callable[[Path], T], what: str, errors: tuple[type[Exception], ...], hint: str
) -> T:
    """`read(path)`, with a missing file or one of `errors` (a damaged file) as a one-line
    `ConvscopeError`: `<path>: missing; <hint>` or `<path>: not <what> (<reason>); <hint>`."""
    try:
        return read(path)
    except FileNotFoundError:
        raise ConvscopeError(f"{path}: missing; {hint}") from None
    except errors as err:
        raise ConvscopeError(f"{path}: not {what} ({first_line(err)}); {hint}") from None


def write_json(path: Path, data: Any) -> None:
    """Atomically write `data` as indented JSON (keys in their given order) to `path`."""
    write_text(path, json.dumps(data, indent=2) + "\n")


def read_json_record(path: Path, required: Iterable[str], hint: str) -> dict[str, Any]:
    """Read a JSON object holding at least the `required` keys.

    A missing file, bad JSON, a non-object or a missing key is a `ConvscopeError` naming the
    file, followed by `hint` (how to recreate it).
    """
    path = Path(path)
    data = read_or_fail(
        path,
        lambda file: json.loads(file.read_text()),
        "readable JSON",
        (OSError, UnicodeDecodeError, json.JSONDecodeError),
        hint,
    )
    if not isinstance(data, dict):
        raise ConvscopeError(f"{path}: expected a JSON object; {hint}")
    missing = [key for key in required if key not in data]
    if missing:
        raise ConvscopeError(f"{path}: lacks {', '.join(missing)}; {hint}")
    return data
