"""`shopintent actions`: run the rasa-sdk action server."""

from __future__ import annotations

import argparse

from shopintent.cli.common import Subparsers, add_command


def register(sub: Subparsers) -> None:
    """Add the `actions` command."""
    server = add_command(sub, run_server, name="actions")
    server.add_argument("--port", type=int, default=5055, help="TCP port (default 5055)")
    server.add_argument(
        "--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1: this machine)"
    )


def run_server(args: argparse.Namespace) -> int:
    """Run the rasa-sdk action server.

    Run the action server on 127.0.0.1 (the actions of `python -m rasa_sdk --actions actions`); with
    SHOPINTENT_ACTIONS_SECRET set it refuses calls without a valid X-Shopintent-Signature. Creates
    and seeds an empty store first unless SHOPINTENT_AUTO_SEED=false.
    """
    from actions.server import serve

    serve(args.port, host=args.host)
    return 0
