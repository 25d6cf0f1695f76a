"""Subcommands owned by the `nlu` package.

`data ...` (load, validate, stats) lives in `nlu.data_commands`; `train`, `predict`
and `evaluate` live in `nlu.model_commands`.
"""

from __future__ import annotations

from typing import Any


def register(sub: Any) -> None:
    """Add the nlu subcommands to the `shopintent` parser's subparsers."""
    from nlu import data_commands, model_commands, registry_commands

    data_commands.register(sub)
    model_commands.register(sub)
    registry_commands.register(sub)
