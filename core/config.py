"""Training settings as dataclasses: their defaults and the check of each value.

`nlu.config.TrainConfig` and `recs.config.RecsConfig` are dataclasses whose fields
are also CLI flags; each checks its values in `__post_init__` with a `_check` built
here (raising its own package's `ConfigError`), and lists its defaults for `--help`:

>>> from dataclasses import dataclass
>>> @dataclass
... class Example:
...     epochs: int = 3
...     def __post_init__(self) -> None:
...         _check(self.epochs >= 1, "epochs", self.epochs, "an integer >= 1")
>>> _check = value_checker(ValueError)
>>> field_defaults(Example)
{'epochs': 3}
>>> Example(epochs=0)
Traceback (most recent call last):
ValueError: epochs: expected an integer >= 1, found 0
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import MISSING, fields
from typing import Any, Protocol


class ValueCheck(Protocol):
    """`check(ok, name, value, expected)`: raise unless `ok` (a NaN `value` is never ok)."""

    def __call__(self, ok: bool, name: str, value: object, expected: str) -> None: ...


def value_checker(error: Callable[[str], Exception]) -> ValueCheck:
    """Build the `_check` of a settings dataclass, raising `error` with the message.

    The message says which setting, what was expected and what was found:
    `epochs: expected an integer >= 1, found 0`.
    """

    def check(ok: bool, name: str, value: object, expected: str) -> None:
        if isinstance(value, float) and math.isnan(value):
            ok = False
        if not ok:
            raise error(f"{name}: expected {expected}, found {value!r}")

    return check


def field_names(cls: type) -> set[str]:
    """The names of a dataclass's fields (what a config file or an old artifact may set)."""
    return {f.name for f in fields(cls)}


def field_defaults(cls: type) -> dict[str, Any]:
    """The default value of every field of a dataclass that has one (for `--help` texts)."""
    out: dict[str, Any] = {}
    for f in fields(cls):
        if f.default is not MISSING:
            out[f.name] = f.default
        elif f.default_factory is not MISSING:
            out[f.name] = f.default_factory()
    return out
