"""Errors raised by the `nlu` package. The CLI prints them without a traceback."""

from core.errors import ShopintentError


class NluError(ShopintentError):
    """Base class of every error the `nlu` package raises on bad input or state.

    Takes a message and the keyword `options` (the settings that fix it), as
    `core.errors.ShopintentError` does.
    """


class TrainDataError(NluError):
    """The training data cannot train a classifier (too few intents or examples)."""


class NotAModelError(NluError):
    """A directory does not hold a shopintent model artifact."""


class ArtifactError(NluError):
    """A shopintent model artifact is damaged or from an incompatible version."""
