"""The `shopintent` console command: every subcommand of every package, in one place.

One module per command group (`train`, `models`, `data`, `serve`, `review`, `db`,
`actions`, `recs`, `privacy`, `segments`, `up`) declares its commands and handles
them by calling the libraries; `common` holds what they share. Heavy imports (torch,
transformers) happen inside the handlers, so `--help` is fast.

>>> main(["data", "stats", "training_data"])  # doctest: +SKIP
0
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from shopintent import __version__
from shopintent.cli import (
    actions,
    common,
    data,
    db,
    models,
    privacy,
    recs,
    review,
    segments,
    serve,
    train,
    up,
)

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    """Build the full argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="shopintent",
        description="Conversational intent service for shop customer support.",
    )
    parser.add_argument("--version", action="version", version=f"shopintent {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    # The order of `shopintent --help`.
    up.register(sub)
    data.register(sub)
    train.register(sub)
    models.register(sub)
    db.register(sub)
    actions.register(sub)
    serve.register(sub)
    review.register(sub)
    recs.register(sub)
    privacy.register(sub)
    segments.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        # A group without a subcommand (e.g. `shopintent data`) prints its own help.
        (getattr(args, "group_parser", None) or parser).print_help()
        return 2
    return common.run(func, args)
