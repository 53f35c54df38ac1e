"""The one exception type that stages report to the user as a single line."""


class ConvscopeError(Exception):
    """A problem the user can fix (bad input file, bad parameter); printed as one line."""
