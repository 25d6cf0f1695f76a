"""Placeholder: filled in by the work on this part of the nlu package."""

from __future__ import annotations

from typing import Any


def register(sub: Any) -> None:
    """Add these subcommands to the `shopintent` parser's subparsers."""
    del sub
