"""`shopintent segments export`: write the shopper segments of `shopintent.segments` as CSV."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta
from pathlib import Path

from shopintent import segments
from shopintent.cli.common import Subparsers, add_command, add_database_url, add_group


def register(sub: Subparsers) -> None:
    """Shopper segments from intents and behaviour, for the shop's marketing.

    Segments derived from conversations and behaviour events (with consent).
    """
    commands = add_group(sub, "segments", register.__doc__)
    export = add_command(
        commands,
        run_export,
        description=segments.__doc__.split("\n\n", 2)[1] if segments.__doc__ else None,
    )
    export.add_argument("--out", type=Path, required=True, help="CSV file to write")
    export.add_argument("--days", type=int, default=30, help="window in days (default 30)")
    add_database_url(export)


def run_export(args: argparse.Namespace) -> int:
    """Write one CSV row per shopper and segment with the evidence count."""
    from actions.store import resolve_url

    if args.days < 1:
        from actions.errors import InvalidOptionError

        raise InvalidOptionError(f"expected --days to be at least 1, but found {args.days}.")
    since = datetime.now(UTC) - timedelta(days=args.days)
    rows = segments.compute(resolve_url(args.database_url), since)
    count = segments.write_csv(rows, args.out)
    shoppers = len({r.shopper for r in rows})
    print(f"wrote {count} segment row(s) for {shoppers} shopper(s) to {args.out}")
    return 0
