"""Errors raised by the `nlu` package. The CLI prints them without a traceback."""


class NluError(Exception):
    """Base class of every error the `nlu` package raises on bad input or state."""
