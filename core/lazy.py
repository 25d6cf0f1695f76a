"""Package exports imported on first use, so importing a package stays light.

`nlu` and `recs` name their public API in `__init__.py` but import torch only when a
name is first used (`shopintent --help` must not pay for it). Each builds its module
`__getattr__` and `__dir__` here from a table of name -> defining module:

>>> __getattr__, __dir__ = lazy_exports("example", {"sqrt": "math"})
>>> __getattr__("sqrt")(9.0)
3.0
>>> __getattr__("cbrt")
Traceback (most recent call last):
AttributeError: module 'example' has no attribute 'cbrt'
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from importlib import import_module
from typing import Any


def lazy_exports(
    package: str, exports: Mapping[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """Build the module `__getattr__` and `__dir__` of `package` from its export table.

    A name is looked up in its module each time (never copied into the package), so
    `nlu.train` stays the function even after the `nlu.training` module has loaded.

    Args:
        package: The package's `__name__`, for the error message.
        exports: Each public name and the module that defines it (`"train": "nlu.training"`).

    Returns:
        `(__getattr__, __dir__)`, to assign at the package's top level.
    """

    def __getattr__(name: str) -> Any:
        if name in exports:
            return getattr(import_module(exports[name]), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__() -> list[str]:
        module = sys.modules.get(package)
        return sorted({*(vars(module) if module else ()), *exports})

    return __getattr__, __dir__
