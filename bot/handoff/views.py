"""What each side reads of a conversation: the shopper's feed and the agent's transcript.

The shopper's stream reads the bot's and agents' messages past a seq, and the latest
handoff (`read_shopper_feed`). The agent reads a handoff's transcript
(`read_transcript`): the conversation before it, the bot's turns (with the model's
intents) and the messages of earlier handoffs merged in time order, then its own
messages; turns an earlier handoff forwarded to the team appear once, as its messages.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.engine import Connection

from bot.handoff.models import Handoff, HandoffMessage, HandoffThread
from bot.handoff.records import HistoryEntry, ShopperFeed, Transcript
from bot.handoff.sql import (
    HANDOFF_COLUMNS,
    MAX_MESSAGES,
    MESSAGE_COLUMNS,
    aware,
    get_handoff,
    handoff_row,
    message_row,
    now,
)
from bot.store import Turn

_HISTORY_TURNS = 50


def read_shopper_feed(conn: Connection, sender_id: str, after: int) -> ShopperFeed:
    """New bot and agent messages for the shopper's stream, and the latest handoff."""
    last = conn.execute(
        select(HandoffThread.last_seq).where(HandoffThread.sender_id == sender_id)
    ).scalar_one_or_none()
    rows = conn.execute(
        select(*MESSAGE_COLUMNS)
        .where(
            HandoffMessage.sender_id == sender_id,
            HandoffMessage.seq > after,
            HandoffMessage.author.in_(["bot", "agent"]),
        )
        .order_by(HandoffMessage.seq)
        .limit(MAX_MESSAGES)
    )
    messages = [message_row(r) for r in rows]
    latest = conn.execute(
        select(*HANDOFF_COLUMNS)
        .where(Handoff.sender_id == sender_id)
        .order_by(Handoff.id.desc())
        .limit(1)
    ).one_or_none()
    # Read the counter first: messages past it commit later and are read next time.
    top = max([int(last or 0), after, *(m.seq for m in messages)])
    if len(messages) == MAX_MESSAGES:
        top = messages[-1].seq
    return ShopperFeed(messages, top, handoff_row(latest) if latest is not None else None)


def read_transcript(conn: Connection, handoff_id: int) -> Transcript:
    """The handoff, what came before it and its own messages.

    Raises:
        HandoffNotFoundError: No such handoff.
    """
    handoff = get_handoff(conn, handoff_id)
    rows = [
        message_row(r)
        for r in conn.execute(
            select(*MESSAGE_COLUMNS)
            .where(
                HandoffMessage.sender_id == handoff.sender_id,
                HandoffMessage.handoff_id <= handoff.id,
            )
            .order_by(HandoffMessage.seq)
        )
    ]
    own = [m for m in rows if m.handoff_id == handoff.id]
    earlier = [m for m in rows if m.handoff_id != handoff.id]
    forwarded = {m.turn_seq for m in earlier if m.turn_seq is not None}
    turns = conn.execute(
        select(
            Turn.seq,
            Turn.text,
            Turn.intent,
            Turn.confidence,
            Turn.replies,
            Turn.created_at,
        )
        .where(Turn.sender_id == handoff.sender_id, Turn.seq <= handoff.turn_seq)
        .order_by(Turn.seq.desc())
        .limit(_HISTORY_TURNS)
    ).all()
    entries: list[tuple[datetime, int, HistoryEntry]] = []
    order = 0
    for turn in reversed(turns):
        if turn.seq in forwarded:
            continue
        at = aware(turn.created_at) or now()
        entries.append(
            (
                at,
                order,
                HistoryEntry(
                    author="shopper",
                    text=turn.text,
                    at=at,
                    intent=turn.intent,
                    confidence=turn.confidence,
                    turn_seq=turn.seq,
                ),
            )
        )
        order += 1
        for reply in turn.replies or []:
            said = str(reply.get("text") or "") if isinstance(reply, dict) else ""
            if said:
                entries.append((at, order, HistoryEntry(author="bot", text=said, at=at)))
                order += 1
    for m in earlier:
        entries.append((m.created_at, order, m.as_history()))
        order += 1
    entries.sort(key=lambda item: (item[0], item[1]))
    return Transcript(handoff, [e for _at, _o, e in entries], own)
