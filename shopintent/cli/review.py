"""`shopintent review export`: write the reviewed bot turns as training data."""

from __future__ import annotations

import argparse
from pathlib import Path

from shopintent.cli.common import (
    DEFAULT_ANNOTATIONS,
    Subparsers,
    add_command,
    add_database_url,
    add_group,
    add_training_data,
)


def register(sub: Subparsers) -> None:
    """Export reviewed bot turns as training data.

    Work with the turns the support team reviewed on /review.
    """
    commands = add_group(sub, "review", register.__doc__)
    export = add_command(commands, run_export)
    export.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_ANNOTATIONS,
        metavar="FILE",
        help="file to (re)write (default: %(default)s)",
    )
    add_training_data(
        export, help="data folder checked for conflicting labels (default: %(default)s)"
    )
    add_database_url(export, help="bot database (default: SHOPINTENT_DATABASE_URL)", metavar="URL")


def run_export(args: argparse.Namespace) -> int:
    """Write the reviewed turns as Rasa NLU YAML.

    Write every reviewed turn (correct, relabelled, out-of-scope; not ignored) as Rasa 3.1 NLU YAML,
    one example per text. Texts the training data labels with another intent are left out and
    listed. `shopintent retrain` picks the file up.
    """
    from bot.review.export import export_annotations
    from bot.settings import get_settings
    from bot.store import TranscriptStore

    url = args.database_url or get_settings().database_url
    db = TranscriptStore(url)
    try:
        training = args.training_data if args.training_data.exists() else None
        result = export_annotations(db.engine, args.out, training_data=training)
    finally:
        db.dispose()
    plan = result.plan
    print(
        f"wrote {result.written} reviewed turns to {result.out} "
        f"({len(plan.duplicates)} duplicate texts merged, {len(plan.conflicts)} conflicts left out)"
    )
    for c in plan.conflicts:
        print(
            f"  conflict: {c.text!r} reviewed as {c.intent!r} but the training data says "
            f"{c.existing_intent!r} ({c.source}); fix one of them"
        )
    return 0
