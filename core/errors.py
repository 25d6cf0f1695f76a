"""The one base class of the errors the libraries raise on bad input or state.

`nlu`, `actions` and `recs` each derive their own base from it (`NluError`,
`ActionsError`, `RecsError`) and their kinds of failure from that, so a caller can
catch one package's errors or, like the command line, all of them at once. The CLI
prints such an error as `error: ...` without a traceback and turns its `options`
into hints about its own flags.

>>> exc = ShopintentError("expected a .yml file, found out.txt", options=("out",))
>>> str(exc), exc.options
('expected a .yml file, found out.txt', ('out',))
"""

from __future__ import annotations

__all__ = ["ShopintentError"]


class ShopintentError(Exception):
    """Base class of every library error that means bad input or state, not a bug.

    Args:
        message: What is wrong, what was expected and how to fix it, in the library's words.
        options: The settings (parameter names, e.g. `database_url`) that can fix it;
            the command line names its flags for them.
    """

    def __init__(self, message: str, *, options: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.options = options
