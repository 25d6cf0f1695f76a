"""Errors raised by the `bot` package. The CLI prints them without a traceback."""


class BotError(Exception):
    """Base class of every error the `bot` package raises on bad input or state."""
