"""The `shopintent` console command.

Each package registers its own subcommands (`nlu.cli`, `actions.cli`, `bot.cli`);
this module only assembles them and turns the packages' errors into a clean exit.
Heavy imports (torch, transformers) happen inside the handlers, so `--help` is fast.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from shopintent import __version__


def _user_errors() -> tuple[type[Exception], ...]:
    from actions.errors import ActionsError
    from bot.errors import BotError
    from nlu.errors import NluError

    return (NluError, ActionsError, BotError)


def build_parser() -> argparse.ArgumentParser:
    """Build the full argument parser with every package's subcommands."""
    from actions import cli as actions_cli
    from bot import cli as bot_cli
    from nlu import cli as nlu_cli
    from recs import cli as recs_cli
    from shopintent import privacy, segments, up

    parser = argparse.ArgumentParser(
        prog="shopintent",
        description="Conversational intent service for shop customer support.",
    )
    parser.add_argument("--version", action="version", version=f"shopintent {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    up.register(sub)
    nlu_cli.register(sub)
    actions_cli.register(sub)
    bot_cli.register(sub)
    recs_cli.register(sub)
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
    try:
        return int(func(args) or 0)
    except _user_errors() as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
