"""Subcommands owned by the `actions` package."""

from __future__ import annotations

import argparse
from typing import Any


def register(sub: Any) -> None:
    """Add this package's subcommands to the `shopintent` parser's subparsers."""
    del sub  # filled in as the package grows


def _unused(args: argparse.Namespace) -> int:
    return 0
