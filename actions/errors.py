"""Errors raised by the `actions` package. The CLI prints them without a traceback."""

from core.errors import ShopintentError


class ActionsError(ShopintentError):
    """Base class of every error the `actions` package raises on bad input or state.

    Takes a message and the keyword `options` (the settings that fix it), as
    `core.errors.ShopintentError` does.
    """


class StoreNotReadyError(ActionsError):
    """The store's tables are missing or empty and automatic seeding is off."""


class StoreUnavailableError(ActionsError):
    """The database cannot be reached or opened."""


class CatalogSourceError(ActionsError):
    """The catalog seed files are missing or not in the DummyJSON shape."""


class InvalidOptionError(ActionsError):
    """A command-line option has a value the command cannot use."""
