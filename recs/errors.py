"""Errors raised by the `recs` package. The CLI prints them without a traceback."""

from core.errors import ShopintentError


class RecsError(ShopintentError):
    """Base class of every error the `recs` package raises on bad input or state.

    Takes a message and the keyword `options` (the settings that fix it), as
    `core.errors.ShopintentError` does.
    """


class DataError(RecsError):
    """Interactions cannot be read: a missing file, a malformed line, a missing table."""


class TooLittleDataError(RecsError):
    """The interactions are too few to train or evaluate a recommender."""


class NotAModelError(RecsError):
    """A directory does not hold a recommender artifact."""


class ArtifactError(RecsError):
    """A recommender artifact is damaged or from an incompatible version."""
