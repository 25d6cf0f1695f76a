"""The handoff tables' SQL steps inside one transaction: rows in and out, seq, queue place.

Each function takes an open `Connection` and does one step of a store operation; the
store (`bot.handoff.store`) owns the transactions, the wake-ups and the error mapping.
Messages get their `seq` here, from an upsert on the conversation's `bot_handoff_threads`
row (its row lock orders one conversation's messages across workers), and their text is
redacted here, once, whoever wrote it.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, func, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection

from bot.handoff.errors import HandoffConflictError, HandoffNotFoundError
from bot.handoff.models import OPEN_STATES, Handoff, HandoffMessage, HandoffThread
from bot.handoff.records import HandoffRow, MessageRow, OutMessage
from privacy import PiiType, find, redact, redact_value

# Used for the expected wait until claims have happened.
DEFAULT_CLAIM_S = 120.0
_RECENT_CLAIMS = 20
# The most messages one read returns; a stream reads the rest next time.
MAX_MESSAGES = 500

HANDOFF_COLUMNS = tuple(Handoff.__table__.columns)
MESSAGE_COLUMNS = tuple(HandoffMessage.__table__.columns)
# Asked on every turn: built once (building it cost more than running it on SQLite).
ACTIVE = (
    select(*HANDOFF_COLUMNS)
    .where(Handoff.sender_id == bindparam("sid"), Handoff.state.in_(OPEN_STATES))
    .order_by(Handoff.id.desc())
    .limit(1)
)

# The dialect's INSERT that takes `on_conflict_do_update` (the seq counter's upsert).
Upsert = Callable[[Any], Any]


def upsert_for(dialect: str) -> Upsert:
    """The upserting INSERT of a dialect (`postgresql`, else SQLite's)."""
    return pg_insert if dialect == "postgresql" else sqlite_insert


def redact_keeping_name(text: str, name: str | None) -> str:
    """`redact`, except that the agent's own display name stays ("I'm Anna" is no
    shopper's personal data); any other name, e-mail, phone ... is replaced as usual."""
    if not name:
        return redact(text)
    own = {part.casefold() for part in name.split()}
    out: list[str] = []
    last = 0
    for finding in find(text):
        span = text[finding.start : finding.end]
        words = {part.casefold() for part in span.split()}
        keep = finding.type == PiiType.NAME and bool(words) and words <= own
        out.append(text[last : finding.start])
        out.append(span if keep else finding.type.placeholder)
        last = finding.end
    out.append(text[last:])
    return "".join(out)


def now() -> datetime:
    """The time a row is stamped with (UTC)."""
    return datetime.now(UTC)


def aware(value: datetime | None) -> datetime | None:
    """A stored time as UTC-aware (SQLite hands back naive datetimes; they were UTC)."""
    if value is None:
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def handoff_row(row: Any) -> HandoffRow:
    """A `bot_handoffs` row as a `HandoffRow`."""
    values = dict(row._mapping)
    for key in (
        "typing_at",
        "email_offered_at",
        "created_at",
        "claimed_at",
        "first_reply_at",
        "ended_at",
    ):
        values[key] = aware(values[key])
    return HandoffRow(**values)


def message_row(row: Any) -> MessageRow:
    """A `bot_handoff_messages` row as a `MessageRow`."""
    values = dict(row._mapping)
    values["created_at"] = aware(values["created_at"])
    values["data"] = values["data"] or {}
    return MessageRow(**values)


def next_seq(conn: Connection, upsert: Upsert, sender_id: str) -> int:
    """Take the conversation's next message seq (locking its counter row until commit)."""
    statement = (
        upsert(HandoffThread)
        .values(sender_id=sender_id, last_seq=1)
        .on_conflict_do_update(
            index_elements=["sender_id"], set_={"last_seq": HandoffThread.last_seq + 1}
        )
        .returning(HandoffThread.last_seq)
    )
    return int(conn.execute(statement).scalar_one())


def insert_message(
    conn: Connection, upsert: Upsert, handoff: HandoffRow, message: OutMessage
) -> MessageRow:
    """Store one message of `handoff` under the next seq, its text and data redacted."""
    seq = next_seq(conn, upsert, handoff.sender_id)
    # The team's own words may name the agent; a shopper's never keep a name.
    agent = (message.agent or handoff.agent) if message.author != "shopper" else None
    values = {
        "sender_id": handoff.sender_id,
        "seq": seq,
        "handoff_id": handoff.id,
        "author": message.author,
        "agent": message.agent,
        "text": redact_keeping_name(message.text, agent),
        "data": redact_value(message.data) if message.data else {},
        "intent": message.intent,
        "confidence": message.confidence,
        "turn_seq": message.turn_seq,
        "created_at": now(),
    }
    row = conn.execute(insert(HandoffMessage).values(**values).returning(*MESSAGE_COLUMNS))
    return message_row(row.one())


def get_handoff(conn: Connection, handoff_id: int, *, lock: bool = False) -> HandoffRow:
    """One handoff; `lock` holds its row until commit on PostgreSQL.

    Raises:
        HandoffNotFoundError: No such handoff.
    """
    query = select(*HANDOFF_COLUMNS).where(Handoff.id == handoff_id)
    if lock and conn.dialect.name == "postgresql":
        query = query.with_for_update()
    row = conn.execute(query).one_or_none()
    if row is None:
        raise HandoffNotFoundError(
            f"no handoff has the id {handoff_id}; list them with GET /api/agent/handoffs"
        )
    return handoff_row(row)


def queue_position(conn: Connection, handoff: HandoffRow) -> int:
    """The handoff's place in the queue (1: next)."""
    ahead = conn.execute(
        select(func.count()).where(Handoff.state == "waiting", Handoff.id < handoff.id)
    ).scalar_one()
    return int(ahead) + 1


def typical_claim_s(conn: Connection) -> float:
    """The median wait of the recent claims in seconds (`DEFAULT_CLAIM_S` before any)."""
    rows = conn.execute(
        select(Handoff.created_at, Handoff.claimed_at)
        .where(Handoff.claimed_at.is_not(None))
        .order_by(Handoff.claimed_at.desc())
        .limit(_RECENT_CLAIMS)
    ).all()
    waits = [
        (claimed - created).total_seconds()
        for created, claimed in ((aware(a), aware(b)) for a, b in rows)
        if created is not None and claimed is not None
    ]
    return statistics.median(waits) if waits else DEFAULT_CLAIM_S


def conflict(handoff: HandoffRow, what: str) -> HandoffConflictError:
    """The error of doing `what` (claim, reply, ...) to a handoff in the wrong state."""
    if handoff.state == "with_agent":
        where = f"is with {handoff.agent or 'an agent'} already"
    elif handoff.state == "waiting":
        where = "is still waiting: claim it first (POST .../claim)"
    else:
        where = f"has ended ({handoff.state})"
    return HandoffConflictError(f"cannot {what} handoff {handoff.id}: it {where}")
