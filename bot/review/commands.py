"""`shopintent review ...`: export the reviewed turns for retraining."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from core.paths import DEFAULT_DATA_DIR


def register(sub: Any) -> None:
    """Add the `review` command group to the `shopintent` subparsers."""
    review = sub.add_parser(
        "review",
        help="export reviewed bot turns as training data",
        description="Work with the turns the support team reviewed on /review.",
    )
    review.set_defaults(group_parser=review)
    commands = review.add_subparsers(dest="review_command", metavar="COMMAND")
    export = commands.add_parser(
        "export",
        help="write the reviewed turns as Rasa NLU YAML",
        description=(
            "Write every reviewed turn (correct, relabelled, out-of-scope; not ignored) as "
            "Rasa 3.1 NLU YAML, one example per text. Texts the training data labels with "
            "another intent are left out and listed. `shopintent retrain` picks the file up."
        ),
    )
    export.add_argument(
        "--out",
        type=Path,
        default=Path("training_data/annotated.yml"),
        metavar="FILE",
        help="file to (re)write (default: %(default)s)",
    )
    export.add_argument(
        "--training-data",
        type=Path,
        default=Path(DEFAULT_DATA_DIR),
        metavar="DIR",
        help="data folder checked for conflicting labels (default: %(default)s)",
    )
    export.add_argument(
        "--database-url", metavar="URL", help="bot database (default: SHOPINTENT_DATABASE_URL)"
    )
    export.set_defaults(func=run_export)


def run_export(args: argparse.Namespace) -> int:
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
