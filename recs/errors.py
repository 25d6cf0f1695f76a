"""Errors raised by the `recs` package. The CLI prints them without a traceback."""


class RecsError(Exception):
    """Base class of every error the `recs` package raises on bad input or state.

    Args:
        message: What is wrong, what was expected and how to fix it, in the library's words.
        options: The settings (parameter names, e.g. `database_url`) that can fix it;
            the command line names its flags for them.
    """

    def __init__(self, message: str, *, options: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.options = options


class DataError(RecsError):
    """Interactions cannot be read: a missing file, a malformed line, a missing table."""


class TooLittleDataError(RecsError):
    """The interactions are too few to train or evaluate a recommender."""


class NotAModelError(RecsError):
    """A directory does not hold a recommender artifact."""


class ArtifactError(RecsError):
    """A recommender artifact is damaged or from an incompatible version."""
