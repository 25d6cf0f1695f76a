"""Errors raised by the `nlu` package. The CLI prints them without a traceback."""


class NluError(Exception):
    """Base class of every error the `nlu` package raises on bad input or state.

    Args:
        message: What is wrong, what was expected and how to fix it, in the library's words.
        options: The settings (parameter names, e.g. `database_url`) that can fix it;
            the command line names its flags for them.
    """

    def __init__(self, message: str, *, options: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.options = options


class TrainDataError(NluError):
    """The training data cannot train a classifier (too few intents or examples)."""


class NotAModelError(NluError):
    """A directory does not hold a shopintent model artifact."""


class ArtifactError(NluError):
    """A shopintent model artifact is damaged or from an incompatible version."""
