"""The one exception type that stages report to the user as a single line."""


class ConvscopeError(Exception):
    """A problem the user can fix (bad input file, bad parameter); printed as one line."""


def first_line(err: BaseException) -> str:
    """The first line of `err`'s message, or its type's name when the message is empty."""
    lines = str(err).strip().splitlines()
    return lines[0] if lines else type(err).__name__


def rerun_hint(stage: str) -> str:
    """How to recreate an output of DVC stage `stage` (e.g. `train@lenet5`)."""
    return f"run `dvc repro {stage}` to (re)create it"
