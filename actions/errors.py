"""Errors raised by the `actions` package. The CLI prints them without a traceback."""


class ActionsError(Exception):
    """Base class of every error the `actions` package raises on bad input or state."""
