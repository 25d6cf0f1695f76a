"""`shopintent up`: the main command behind `make run`."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

DEFAULT_DATA = Path("training_data")


def register(sub: Any) -> None:
    """Add the `up` subcommand."""
    p = sub.add_parser(
        "up",
        help="validate the data, train the default model if missing, start the service",
        description=(
            "The main command: validates training_data/, and shows what the project can do."
        ),
    )
    p.add_argument("--data", type=Path, default=DEFAULT_DATA, help="training data folder")
    p.set_defaults(func=run_up)


def run_up(args: argparse.Namespace) -> int:
    from nlu.validate import print_report, validate_path

    report = validate_path(args.data)
    print_report(report)
    if not report.ok:
        return 1
    print()
    print("Next: `shopintent --help` lists every command.")
    return 0
