"""How long the bot keeps conversations, and erasing one shopper's on request.

Two operations on the bot's own tables (`bot_conversations`, `bot_turns`,
`bot_turn_reviews`, `bot_locks`); the action server erases its part (tickets' text,
lookup counters) with `actions.retention`:

- `purge_older_than(engine, cutoff)`: turns older than the retention period, and
  conversations idle since then (their tracker state and events with them). Run at
  start and daily by the bot (`SHOPINTENT_RETENTION_DAYS`, default 90).
- `forget_conversations(engine, sender_ids)`: every row of those conversations.
  `conversations_of_customer` finds a signed-in shopper's conversations by the
  verified `customer_id` their tracker held.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.engine import Connection, Engine

from bot.events import BehaviourEvent
from bot.handoff.store import HandoffStore
from bot.review.store import TurnReview
from bot.store import Conversation, Lock, Turn, rowcount

logger = logging.getLogger(__name__)
_BATCH = 500


@dataclass(frozen=True)
class Removed:
    """What an erasure or purge removed, by kind (for the CLI and the log)."""

    conversations: int = 0
    turns: int = 0
    reviews: int = 0
    handoffs: int = 0
    events: int = 0

    def __add__(self, other: Removed) -> Removed:
        return Removed(
            self.conversations + other.conversations,
            self.turns + other.turns,
            self.reviews + other.reviews,
            self.handoffs + other.handoffs,
            self.events + other.events,
        )

    def describe(self) -> str:
        """What was removed, by kind, for the CLI and the log."""
        return (
            f"{self.conversations} conversation(s) with their tracker state, "
            f"{self.turns} turn(s), {self.reviews} review label(s), {self.handoffs} "
            f"handoff(s) with their messages, {self.events} behaviour event(s)"
        )


def _delete_turns(conn: Connection, turn_ids: list[int]) -> Removed:
    reviews = turns = 0
    for start in range(0, len(turn_ids), _BATCH):
        chunk = turn_ids[start : start + _BATCH]
        reviews += rowcount(conn.execute(delete(TurnReview).where(TurnReview.turn_id.in_(chunk))))
        turns += rowcount(conn.execute(delete(Turn).where(Turn.id.in_(chunk))))
    return Removed(turns=turns, reviews=reviews)


def forget_conversations(
    engine: Engine, sender_ids: Iterable[str], customer_id: str | None = None
) -> Removed:
    """Delete every row of these conversations: turns, review labels, tracker, lock,
    live handoffs with their messages, and behaviour events (also the customer's own).

    Args:
        engine: The bot's database.
        sender_ids: Conversation ids (the REST channel's `sender`).
        customer_id: A signed-in shopper whose events (`customer:<id>`) go too.

    Returns:
        What was removed.
    """
    senders = sorted({s for s in sender_ids if s})
    if not senders and customer_id:
        with engine.begin() as conn:
            shopper = f"customer:{customer_id}"
            events = conn.execute(delete(BehaviourEvent).where(BehaviourEvent.shopper == shopper))
        return Removed(events=rowcount(events))
    if not senders:
        return Removed()
    with engine.begin() as conn:
        removed = Removed()
        for start in range(0, len(senders), _BATCH):
            chunk = senders[start : start + _BATCH]
            ids = list(conn.scalars(select(Turn.id).where(Turn.sender_id.in_(chunk))))
            removed += _delete_turns(conn, ids)
            conn.execute(delete(Lock).where(Lock.sender_id.in_(chunk)))
            gone = conn.execute(delete(Conversation).where(Conversation.sender_id.in_(chunk)))
            removed += Removed(conversations=rowcount(gone))
            shoppers = [*chunk, *([f"customer:{customer_id}"] if customer_id else [])]
            events = conn.execute(
                delete(BehaviourEvent).where(BehaviourEvent.shopper.in_(shoppers))
            )
            removed += Removed(events=rowcount(events))
    removed += Removed(handoffs=HandoffStore(engine).forget(senders))
    return removed


def conversations_of_customer(engine: Engine, customer_id: str) -> list[str]:
    """The conversations in which the signed-in shopper `customer_id` wrote.

    Their verified id is stored in the tracker's protected slot `customer_id`; a
    conversation counts when it holds it now or any of its turns ran under it.
    """
    wanted = str(customer_id).strip()
    if not wanted:
        return []
    found: set[str] = set()
    with engine.connect() as conn:
        for sender, state in conn.execute(select(Conversation.sender_id, Conversation.state)):
            slots = (state or {}).get("slots") or {}
            if str(slots.get("customer_id") or "") == wanted:
                found.add(sender)
    return sorted(found)


def purge_older_than(engine: Engine, cutoff: datetime) -> Removed:
    """Delete turns created before `cutoff` and conversations idle since before it.

    Args:
        engine: The bot's database.
        cutoff: An aware UTC datetime; rows older than it go.

    Returns:
        What was removed.
    """
    with engine.begin() as conn:
        old_turns = list(conn.scalars(select(Turn.id).where(Turn.created_at < cutoff)))
        removed = _delete_turns(conn, old_turns)
        idle = list(
            conn.scalars(select(Conversation.sender_id).where(Conversation.updated_at < cutoff))
        )
    if idle:
        removed += forget_conversations(engine, idle)
    if removed.turns or removed.conversations:
        logger.info("retention: removed %s older than %s", removed.describe(), cutoff.date())
    return removed
