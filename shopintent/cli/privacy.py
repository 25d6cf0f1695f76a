"""`shopintent privacy forget|purge`: erase one shopper's data, or everything past retention.

It spans both packages' tables, which is why it lives here and not in `bot` or
`actions` (they never import each other): the bot's conversations, turns, tracker
state and review labels (`bot.retention`), and the action server's ticket texts,
lookup counters and pending changes (`actions.retention`).
"""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from shopintent.cli.common import Subparsers, add_command, add_database_url, add_group, add_json


def register(sub: Subparsers) -> None:
    """Erase a shopper's conversations, or purge what is past the retention period.

    Shoppers' data in the bot's and the action server's tables. Orders are the shop's records and
    stay; the audit table keeps ids, never free text.
    """
    commands = add_group(sub, "privacy", register.__doc__)
    forget = add_command(commands, run_forget)
    who = forget.add_mutually_exclusive_group(required=True)
    who.add_argument("--sender", action="append", help="a conversation id (repeatable)")
    who.add_argument("--customer", help="a signed-in shopper's customer id")
    _common(forget)

    purge = add_command(commands, run_purge)
    purge.add_argument(
        "--days",
        type=int,
        default=None,
        help="keep this many days (default: SHOPINTENT_RETENTION_DAYS, else 90)",
    )
    _common(purge)


def _common(parser: argparse.ArgumentParser) -> None:
    add_database_url(parser)
    add_json(parser, help="print what was removed as JSON")


def _stores(url: str | None) -> tuple[Any, str]:
    from actions.store import resolve_url
    from bot.store import TranscriptStore

    resolved = resolve_url(url)
    store = TranscriptStore(resolved)
    store.create_tables()
    return store, resolved


def run_forget(args: argparse.Namespace) -> int:
    """Delete one shopper's turns, tracker, events and tickets' text.

    Delete every turn, the tracker state (slots and events) and the review labels of a conversation,
    blank its tickets' text and drop its lookup counters. --customer finds every conversation a
    signed-in shopper had.
    """
    from actions.retention import forget
    from actions.store import session_scope
    from bot.retention import conversations_of_customer, forget_conversations

    store, url = _stores(args.database_url)
    try:
        senders = (
            conversations_of_customer(store.engine, args.customer)
            if args.customer
            else [s.strip() for s in args.sender if s.strip()]
        )
        bot_removed = forget_conversations(store.engine, senders, customer_id=args.customer)
    finally:
        store.dispose()
    with session_scope(url) as session:
        shop_erased = forget(session, senders)
    who = f"customer {args.customer}" if args.customer else ", ".join(senders)
    if args.json:
        print(
            json.dumps(
                {"conversations": senders, "bot": vars(bot_removed), "actions": vars(shop_erased)}
            )
        )
    else:
        print(f"forgot {who}: {len(senders)} conversation id(s)")
        print(f"  bot: {bot_removed.describe()}")
        print(f"  action server: {shop_erased.describe()}")
    return 0


def retention_days(days: int | None) -> int:
    """The retention period in days: the flag, else SHOPINTENT_RETENTION_DAYS, else 90."""
    if days is None:
        from actions.config import get_settings

        days = get_settings().retention_days
    if days < 1:
        from actions.errors import InvalidOptionError

        raise InvalidOptionError(f"expected --days to be at least 1, but found {days}.")
    return days


def run_purge(args: argparse.Namespace) -> int:
    """Remove turns, conversations and ticket texts older than the retention period.

    What the bot and the action server also do at start and daily (SHOPINTENT_RETENTION_DAYS,
    default 90).
    """
    from actions.retention import purge
    from actions.store import session_scope
    from bot.retention import purge_older_than

    days = retention_days(args.days)
    cutoff = datetime.now(UTC) - timedelta(days=days)
    store, url = _stores(args.database_url)
    try:
        bot_removed = purge_older_than(store.engine, cutoff)
    finally:
        store.dispose()
    with session_scope(url) as session:
        shop_erased = purge(session, cutoff.replace(tzinfo=None))
    if args.json:
        print(json.dumps({"days": days, "bot": vars(bot_removed), "actions": vars(shop_erased)}))
    else:
        print(f"purged what is older than {days} days ({cutoff.date()}):")
        print(f"  bot: {bot_removed.describe()}")
        print(f"  action server: {shop_erased.describe()}")
    return 0
