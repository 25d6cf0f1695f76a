"""Errors raised by the `actions` package. The CLI prints them without a traceback."""


class ActionsError(Exception):
    """Base class of every error the `actions` package raises on bad input or state.

    Args:
        message: What is wrong, what was expected and how to fix it, in the library's words.
        options: The settings (parameter names, e.g. `database_url`) that can fix it;
            the command line names its flags for them.
    """

    def __init__(self, message: str, *, options: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.options = options


class StoreNotReadyError(ActionsError):
    """The store's tables are missing or empty and automatic seeding is off."""


class StoreUnavailableError(ActionsError):
    """The database cannot be reached or opened."""


class CatalogSourceError(ActionsError):
    """The catalog seed files are missing or not in the DummyJSON shape."""


class InvalidOptionError(ActionsError):
    """A command-line option has a value the command cannot use."""
