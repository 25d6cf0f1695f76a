"""The live handoff in SQL: handoffs, their messages, and the per-conversation seq counter.

The database is the record: every message gets its `seq` inside the transaction that
stores it (an upsert on the conversation's `bot_handoff_threads` row, whose row lock
makes commits follow seq order), so a stream that reads `seq > last` never skips or
repeats one, whichever worker wrote it. On PostgreSQL with `LISTEN/NOTIFY` the same
transaction sends the wake-up (`pg_notify`), delivered when it commits.

Methods are blocking; call them from a worker thread. Texts are redacted here, once,
with `privacy.redact`, whoever wrote them.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, delete, func, insert, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from bot.errors import StoreError
from bot.handoff.errors import HandoffConflictError, HandoffNotFoundError
from bot.handoff.models import (
    OPEN_STATES,
    Author,
    EmailState,
    Handoff,
    HandoffMessage,
    HandoffThread,
    State,
)
from bot.store import Turn, rowcount
from privacy import PiiType, find, redact, redact_value

# The PostgreSQL NOTIFY channel and Redis pub/sub channel every worker listens on.
CHANNEL = "shopintent_handoff"
QUEUE_TOPIC = "queue"
# Used for the expected wait until claims have happened.
DEFAULT_CLAIM_S = 120.0
_RECENT_CLAIMS = 20
_HISTORY_TURNS = 50
_MAX_MESSAGES = 500


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


def conv_topic(sender_id: str) -> str:
    """The wake-up topic of one conversation's messages and state."""
    return f"conv:{sender_id}"


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(value: datetime | None) -> datetime | None:
    # SQLite hands back naive datetimes; they were stored as UTC.
    if value is None:
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


@dataclass(frozen=True)
class HandoffRow:
    """A handoff as stored."""

    id: int
    sender_id: str
    state: State
    reason: str
    intent: str | None
    ticket: str | None
    turn_seq: int
    agent: str | None
    typing_at: datetime | None
    email_state: EmailState
    contact_email: str | None
    email_offered_at: datetime | None
    created_at: datetime
    claimed_at: datetime | None
    first_reply_at: datetime | None
    ended_at: datetime | None
    ended_by: str | None

    @property
    def is_open(self) -> bool:
        """Waiting or with an agent: the shopper's messages go to the team."""
        return self.state in OPEN_STATES


@dataclass(frozen=True)
class MessageRow:
    """A stored handoff message (text redacted)."""

    id: int
    sender_id: str
    seq: int
    handoff_id: int
    author: Author
    agent: str | None
    text: str
    data: dict[str, Any]
    intent: str | None
    confidence: float | None
    turn_seq: int | None
    created_at: datetime


@dataclass(frozen=True)
class OutMessage:
    """A message to store; its text is redacted on the way in."""

    author: Author
    text: str
    agent: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    intent: str | None = None
    confidence: float | None = None
    turn_seq: int | None = None


@dataclass(frozen=True)
class HistoryEntry:
    """One line of the conversation before a handoff (turns, earlier handoffs)."""

    author: Author
    text: str
    at: datetime
    agent: str | None = None
    intent: str | None = None
    confidence: float | None = None
    turn_seq: int | None = None


@dataclass(frozen=True)
class Transcript:
    """A handoff, the conversation before it, and what was said since (seq order)."""

    handoff: HandoffRow
    history: list[HistoryEntry]
    messages: list[MessageRow]


@dataclass(frozen=True)
class ShopperFeed:
    """What a shopper's stream reads: new bot/agent messages and the latest handoff."""

    messages: list[MessageRow]
    last_seq: int
    handoff: HandoffRow | None


@dataclass
class HandoffStats:
    """Handoff numbers of the analytics page."""

    opened: int = 0
    by_reason: list[tuple[str, int]] = field(default_factory=list)
    answered: int = 0
    first_reply_median_s: float | None = None
    first_reply_mean_s: float | None = None
    waiting_now: int = 0
    email_left: int = 0


_HANDOFF_COLUMNS = tuple(Handoff.__table__.columns)
_MESSAGE_COLUMNS = tuple(HandoffMessage.__table__.columns)
# Asked on every turn: built once (building it cost more than running it on SQLite).
_ACTIVE = (
    select(*_HANDOFF_COLUMNS)
    .where(Handoff.sender_id == bindparam("sid"), Handoff.state.in_(OPEN_STATES))
    .order_by(Handoff.id.desc())
    .limit(1)
)


def _handoff(row: Any) -> HandoffRow:
    values = dict(row._mapping)
    for key in (
        "typing_at",
        "email_offered_at",
        "created_at",
        "claimed_at",
        "first_reply_at",
        "ended_at",
    ):
        values[key] = _aware(values[key])
    return HandoffRow(**values)


def _message(row: Any) -> MessageRow:
    values = dict(row._mapping)
    values["created_at"] = _aware(values["created_at"])
    values["data"] = values["data"] or {}
    return MessageRow(**values)


class HandoffStore:
    """The handoff tables on the bot's engine.

    Args:
        engine: The bot's database (the transcript store's engine).
        notify_in_sql: Send `pg_notify` wake-ups inside each writing transaction
            (PostgreSQL `LISTEN/NOTIFY` mode).
    """

    def __init__(self, engine: Engine, *, notify_in_sql: bool = False) -> None:
        self.engine = engine
        self.notify_in_sql = notify_in_sql and engine.dialect.name == "postgresql"
        self._upsert = pg_insert if engine.dialect.name == "postgresql" else sqlite_insert

    # -- writing ---------------------------------------------------------------

    def _write(
        self, work: Callable[[Connection], Any], topics: Callable[[Any], Iterable[str]]
    ) -> Any:
        """Run `work` in one transaction, with the wake-ups of what it wrote."""
        try:
            with self.engine.begin() as conn:
                result = work(conn)
                if self.notify_in_sql:
                    for topic in topics(result):
                        conn.execute(
                            text("SELECT pg_notify(:channel, :topic)"),
                            {"channel": CHANNEL, "topic": topic},
                        )
                return result
        except SQLAlchemyError as exc:
            raise StoreError(f"could not store the handoff change: {exc}") from exc

    def _next_seq(self, conn: Connection, sender_id: str) -> int:
        statement = (
            self._upsert(HandoffThread)
            .values(sender_id=sender_id, last_seq=1)
            .on_conflict_do_update(
                index_elements=["sender_id"], set_={"last_seq": HandoffThread.last_seq + 1}
            )
            .returning(HandoffThread.last_seq)
        )
        return int(conn.execute(statement).scalar_one())

    def _insert(self, conn: Connection, handoff: HandoffRow, message: OutMessage) -> MessageRow:
        seq = self._next_seq(conn, handoff.sender_id)
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
            "created_at": _now(),
        }
        row = conn.execute(insert(HandoffMessage).values(**values).returning(*_MESSAGE_COLUMNS))
        return _message(row.one())

    def _get(self, conn: Connection, handoff_id: int, *, lock: bool = False) -> HandoffRow:
        query = select(*_HANDOFF_COLUMNS).where(Handoff.id == handoff_id)
        if lock and conn.dialect.name == "postgresql":
            query = query.with_for_update()
        row = conn.execute(query).one_or_none()
        if row is None:
            raise HandoffNotFoundError(
                f"no handoff has the id {handoff_id}; list them with GET /api/agent/handoffs"
            )
        return _handoff(row)

    def open(
        self,
        sender_id: str,
        *,
        reason: str,
        intent: str | None,
        ticket: str | None,
        turn_seq: int,
        notice: Callable[[HandoffRow, int, float], OutMessage],
    ) -> tuple[HandoffRow, MessageRow]:
        """Put a conversation in the queue (`waiting`) and store the bot's notice.

        Args:
            sender_id: The conversation.
            reason: Why (`asked_for_person`, `fallbacks`, `complaint`, ...).
            intent: The intent of the message that handed over.
            ticket: The action server's ticket reference, if it opened one.
            turn_seq: The turn that handed over.
            notice: Builds the bot's notice from the handoff, its place in the queue
                and the expected wait in seconds.

        Returns:
            The handoff and the stored notice.
        """

        def work(conn: Connection) -> tuple[HandoffRow, MessageRow]:
            new_id = conn.execute(
                insert(Handoff)
                .values(
                    sender_id=sender_id,
                    state="waiting",
                    reason=reason,
                    intent=intent,
                    ticket=ticket,
                    turn_seq=turn_seq,
                    email_state="none",
                    created_at=_now(),
                )
                .returning(Handoff.id)
            ).scalar_one()
            handoff = self._get(conn, int(new_id))
            position = self._position(conn, handoff)
            message = self._insert(
                conn, handoff, notice(handoff, position, position * self._typical_claim_s(conn))
            )
            return handoff, message

        result: tuple[HandoffRow, MessageRow] = self._write(
            work, lambda _r: (conv_topic(sender_id), QUEUE_TOPIC)
        )
        return result

    def add(self, handoff: HandoffRow, messages: Sequence[OutMessage]) -> list[MessageRow]:
        """Store messages of an open handoff, in order."""

        def work(conn: Connection) -> list[MessageRow]:
            return [self._insert(conn, handoff, m) for m in messages]

        result: list[MessageRow] = self._write(work, lambda _r: (conv_topic(handoff.sender_id),))
        return result

    def claim(
        self, handoff_id: int, agent: str, notice: Callable[[HandoffRow], OutMessage]
    ) -> tuple[HandoffRow, MessageRow]:
        """An agent takes a waiting handoff (`with_agent`); the bot says who joined.

        Raises:
            HandoffNotFoundError: No such handoff.
            HandoffConflictError: It is not waiting (claimed by someone, or ended).
        """

        def work(conn: Connection) -> tuple[HandoffRow, MessageRow]:
            taken = conn.execute(
                update(Handoff)
                .where(Handoff.id == handoff_id, Handoff.state == "waiting")
                .values(state="with_agent", agent=agent, claimed_at=_now())
            ).rowcount
            handoff = self._get(conn, handoff_id)
            if not taken:
                raise _conflict(handoff, "claim")
            return handoff, self._insert(conn, handoff, notice(handoff))

        result: tuple[HandoffRow, MessageRow] = self._write(
            work, lambda r: (conv_topic(r[0].sender_id), QUEUE_TOPIC)
        )
        return result

    def reply(self, handoff_id: int, message: str) -> tuple[HandoffRow, MessageRow]:
        """Store the claiming agent's reply to the shopper.

        Raises:
            HandoffNotFoundError: No such handoff.
            HandoffConflictError: Nobody claimed it, or it has ended.
        """

        def work(conn: Connection) -> tuple[HandoffRow, MessageRow]:
            handoff = self._get(conn, handoff_id, lock=True)
            if handoff.state != "with_agent":
                raise _conflict(handoff, "reply")
            if handoff.first_reply_at is None:
                conn.execute(
                    update(Handoff)
                    .where(Handoff.id == handoff_id, Handoff.first_reply_at.is_(None))
                    .values(first_reply_at=_now())
                )
            out = OutMessage(author="agent", text=message, agent=handoff.agent)
            return handoff, self._insert(conn, handoff, out)

        result: tuple[HandoffRow, MessageRow] = self._write(
            work, lambda r: (conv_topic(r[0].sender_id),)
        )
        return result

    def end(
        self,
        handoff_id: int,
        state: State,
        by: str,
        notice: Callable[[HandoffRow], OutMessage | None],
    ) -> tuple[HandoffRow, MessageRow | None]:
        """Release (`released`) or close (`closed`) an open handoff: the bot answers again.

        Raises:
            HandoffNotFoundError: No such handoff.
            HandoffConflictError: It has ended already.
        """

        def work(conn: Connection) -> tuple[HandoffRow, MessageRow | None]:
            before = self._get(conn, handoff_id)
            ended = conn.execute(
                update(Handoff)
                .where(Handoff.id == handoff_id, Handoff.state.in_(OPEN_STATES))
                .values(state=state, ended_at=_now(), ended_by=by, typing_at=None)
            ).rowcount
            if not ended:
                raise _conflict(before, "release" if state == "released" else "close")
            handoff = self._get(conn, handoff_id)
            out = notice(handoff)
            return handoff, self._insert(conn, handoff, out) if out is not None else None

        result: tuple[HandoffRow, MessageRow | None] = self._write(
            work, lambda r: (conv_topic(r[0].sender_id), QUEUE_TOPIC)
        )
        return result

    def typing(self, handoff_id: int) -> HandoffRow:
        """Note that the agent is typing (the shopper's widget shows it for a few seconds)."""

        def work(conn: Connection) -> HandoffRow:
            handoff = self._get(conn, handoff_id)
            if handoff.state != "with_agent":
                raise _conflict(handoff, "type in")
            conn.execute(update(Handoff).where(Handoff.id == handoff_id).values(typing_at=_now()))
            return self._get(conn, handoff_id)

        result: HandoffRow = self._write(work, lambda r: (conv_topic(r.sender_id),))
        return result

    def set_email(
        self,
        handoff: HandoffRow,
        state: EmailState,
        replies: Sequence[OutMessage],
        email: str | None = None,
    ) -> list[MessageRow]:
        """Move the e-mail fallback on (consent asked, address given, declined) and say so."""

        def work(conn: Connection) -> list[MessageRow]:
            values: dict[str, Any] = {"email_state": state}
            if email is not None:
                values["contact_email"] = email[:320]
            conn.execute(update(Handoff).where(Handoff.id == handoff.id).values(**values))
            return [self._insert(conn, handoff, m) for m in replies]

        result: list[MessageRow] = self._write(
            work, lambda _r: (conv_topic(handoff.sender_id), QUEUE_TOPIC)
        )
        return result

    def offer_email(
        self, handoff_id: int, notice: Callable[[HandoffRow], OutMessage]
    ) -> MessageRow | None:
        """Offer a waiting handoff's shopper a reply by e-mail, once (whichever worker wins).

        Returns:
            The stored offer, or None when another worker made it or the handoff moved on.
        """

        def work(conn: Connection) -> tuple[HandoffRow, MessageRow | None]:
            won = conn.execute(
                update(Handoff)
                .where(
                    Handoff.id == handoff_id,
                    Handoff.state == "waiting",
                    Handoff.email_offered_at.is_(None),
                    Handoff.email_state == "none",
                )
                .values(email_offered_at=_now(), email_state="offered")
            ).rowcount
            handoff = self._get(conn, handoff_id)
            return handoff, self._insert(conn, handoff, notice(handoff)) if won else None

        _handoff_row, message = self._write(
            work, lambda r: (conv_topic(r[0].sender_id), QUEUE_TOPIC) if r[1] is not None else ()
        )
        result: MessageRow | None = message
        return result

    # -- reading ---------------------------------------------------------------

    def _read(self, work: Callable[[Connection], Any]) -> Any:
        try:
            with self.engine.connect() as conn:
                return work(conn)
        except SQLAlchemyError as exc:
            raise StoreError(f"could not read the handoffs: {exc}") from exc

    def get(self, handoff_id: int) -> HandoffRow:
        """One handoff.

        Raises:
            HandoffNotFoundError: No such handoff.
        """
        result: HandoffRow = self._read(lambda conn: self._get(conn, handoff_id))
        return result

    def active(self, sender_id: str) -> HandoffRow | None:
        """The conversation's open handoff (waiting or with an agent), if any."""

        def work(conn: Connection) -> HandoffRow | None:
            row = conn.execute(_ACTIVE, {"sid": sender_id}).one_or_none()
            return _handoff(row) if row is not None else None

        result: HandoffRow | None = self._read(work)
        return result

    def in_states(self, states: Sequence[str], limit: int = 200) -> list[HandoffRow]:
        """Handoffs in these states, oldest first."""

        def work(conn: Connection) -> list[HandoffRow]:
            rows = conn.execute(
                select(*_HANDOFF_COLUMNS)
                .where(Handoff.state.in_(list(states)))
                .order_by(Handoff.created_at, Handoff.id)
                .limit(limit)
            )
            return [_handoff(r) for r in rows]

        result: list[HandoffRow] = self._read(work)
        return result

    def _position(self, conn: Connection, handoff: HandoffRow) -> int:
        ahead = conn.execute(
            select(func.count()).where(Handoff.state == "waiting", Handoff.id < handoff.id)
        ).scalar_one()
        return int(ahead) + 1

    def _typical_claim_s(self, conn: Connection) -> float:
        rows = conn.execute(
            select(Handoff.created_at, Handoff.claimed_at)
            .where(Handoff.claimed_at.is_not(None))
            .order_by(Handoff.claimed_at.desc())
            .limit(_RECENT_CLAIMS)
        ).all()
        waits = [
            (claimed - created).total_seconds()
            for created, claimed in ((_aware(a), _aware(b)) for a, b in rows)
            if created is not None and claimed is not None
        ]
        return statistics.median(waits) if waits else DEFAULT_CLAIM_S

    def position(self, handoff: HandoffRow) -> tuple[int, float]:
        """The handoff's place in the queue (1: next) and the expected wait in seconds."""

        def work(conn: Connection) -> tuple[int, float]:
            place = self._position(conn, handoff)
            return place, place * self._typical_claim_s(conn)

        result: tuple[int, float] = self._read(work)
        return result

    def positions(self) -> dict[int, int]:
        """Each waiting handoff's place in the queue."""

        def work(conn: Connection) -> dict[int, int]:
            ids = conn.scalars(
                select(Handoff.id).where(Handoff.state == "waiting").order_by(Handoff.id)
            )
            return {int(i): n for n, i in enumerate(ids, start=1)}

        result: dict[int, int] = self._read(work)
        return result

    def messages(
        self,
        sender_id: str,
        after: int = 0,
        *,
        authors: Sequence[str] | None = None,
        limit: int = _MAX_MESSAGES,
    ) -> list[MessageRow]:
        """A conversation's handoff messages with `seq > after`, in seq order."""

        def work(conn: Connection) -> list[MessageRow]:
            query = (
                select(*_MESSAGE_COLUMNS)
                .where(HandoffMessage.sender_id == sender_id, HandoffMessage.seq > after)
                .order_by(HandoffMessage.seq)
                .limit(limit)
            )
            if authors is not None:
                query = query.where(HandoffMessage.author.in_(list(authors)))
            return [_message(r) for r in conn.execute(query)]

        result: list[MessageRow] = self._read(work)
        return result

    def shopper_feed(self, sender_id: str, after: int) -> ShopperFeed:
        """New bot and agent messages for the shopper's stream, and the latest handoff."""

        def work(conn: Connection) -> ShopperFeed:
            last = conn.execute(
                select(HandoffThread.last_seq).where(HandoffThread.sender_id == sender_id)
            ).scalar_one_or_none()
            rows = conn.execute(
                select(*_MESSAGE_COLUMNS)
                .where(
                    HandoffMessage.sender_id == sender_id,
                    HandoffMessage.seq > after,
                    HandoffMessage.author.in_(["bot", "agent"]),
                )
                .order_by(HandoffMessage.seq)
                .limit(_MAX_MESSAGES)
            )
            messages = [_message(r) for r in rows]
            latest = conn.execute(
                select(*_HANDOFF_COLUMNS)
                .where(Handoff.sender_id == sender_id)
                .order_by(Handoff.id.desc())
                .limit(1)
            ).one_or_none()
            # Read the counter first: messages past it commit later and are read next time.
            top = max([int(last or 0), after, *(m.seq for m in messages)])
            if len(messages) == _MAX_MESSAGES:
                top = messages[-1].seq
            return ShopperFeed(messages, top, _handoff(latest) if latest is not None else None)

        result: ShopperFeed = self._read(work)
        return result

    def transcript(self, handoff_id: int) -> Transcript:
        """The handoff, what came before it (turns with the model's intents, earlier
        handoffs) and its own messages.

        Raises:
            HandoffNotFoundError: No such handoff.
        """

        def work(conn: Connection) -> Transcript:
            handoff = self._get(conn, handoff_id)
            rows = [
                _message(r)
                for r in conn.execute(
                    select(*_MESSAGE_COLUMNS)
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
                at = _aware(turn.created_at) or _now()
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
                entry = HistoryEntry(
                    author=m.author,
                    text=m.text,
                    at=m.created_at,
                    agent=m.agent,
                    intent=m.intent,
                    confidence=m.confidence,
                    turn_seq=m.turn_seq,
                )
                entries.append((m.created_at, order, entry))
                order += 1
            entries.sort(key=lambda item: (item[0], item[1]))
            return Transcript(handoff, [e for _at, _o, e in entries], own)

        result: Transcript = self._read(work)
        return result

    def offers_due(self, created_before: datetime) -> list[int]:
        """Waiting handoffs older than `created_before` whose shopper was not offered e-mail."""

        def work(conn: Connection) -> list[int]:
            return [
                int(i)
                for i in conn.scalars(
                    select(Handoff.id).where(
                        Handoff.state == "waiting",
                        Handoff.email_offered_at.is_(None),
                        Handoff.email_state == "none",
                        Handoff.created_at < created_before,
                    )
                )
            ]

        result: list[int] = self._read(work)
        return result

    def stats(self, since: datetime) -> HandoffStats:
        """Handoffs opened since `since`: by reason, answered, time to the first agent reply."""

        def work(conn: Connection) -> HandoffStats:
            window = Handoff.created_at >= since
            stats = HandoffStats()
            stats.by_reason = [
                (str(reason), int(n))
                for reason, n in conn.execute(
                    select(Handoff.reason, func.count())
                    .where(window)
                    .group_by(Handoff.reason)
                    .order_by(func.count().desc(), Handoff.reason)
                ).all()
            ]
            stats.opened = sum(n for _r, n in stats.by_reason)
            replies = [
                (b - a).total_seconds()
                for a, b in (
                    (_aware(created), _aware(first))
                    for created, first in conn.execute(
                        select(Handoff.created_at, Handoff.first_reply_at).where(
                            window, Handoff.first_reply_at.is_not(None)
                        )
                    ).all()
                )
                if a is not None and b is not None
            ]
            stats.answered = len(replies)
            if replies:
                stats.first_reply_median_s = statistics.median(replies)
                stats.first_reply_mean_s = statistics.fmean(replies)
            stats.waiting_now = int(
                conn.execute(select(func.count()).where(Handoff.state == "waiting")).scalar_one()
            )
            stats.email_left = int(
                conn.execute(
                    select(func.count()).where(window, Handoff.email_state == "given")
                ).scalar_one()
            )
            return stats

        result: HandoffStats = self._read(work)
        return result

    # -- retention ---------------------------------------------------------------

    def purge(self, cutoff: datetime) -> int:
        """Delete handoffs that ended (or, still open, began) before `cutoff`, with their
        messages and e-mails.

        Returns:
            How many handoffs were deleted.
        """
        with self.engine.begin() as conn:
            old = func.coalesce(Handoff.ended_at, Handoff.created_at) < cutoff
            ids = select(Handoff.id).where(old)
            conn.execute(delete(HandoffMessage).where(HandoffMessage.handoff_id.in_(ids)))
            result = conn.execute(delete(Handoff).where(old))
        return rowcount(result)

    def forget(self, sender_ids: Iterable[str]) -> int:
        """Delete every handoff, message and counter of these conversations (erasure)."""
        senders = list(sender_ids)
        if not senders:
            return 0
        with self.engine.begin() as conn:
            conn.execute(delete(HandoffMessage).where(HandoffMessage.sender_id.in_(senders)))
            conn.execute(delete(HandoffThread).where(HandoffThread.sender_id.in_(senders)))
            result = conn.execute(delete(Handoff).where(Handoff.sender_id.in_(senders)))
        return rowcount(result)


def _conflict(handoff: HandoffRow, what: str) -> HandoffConflictError:
    if handoff.state == "with_agent":
        now = f"is with {handoff.agent or 'an agent'} already"
    elif handoff.state == "waiting":
        now = "is still waiting: claim it first (POST .../claim)"
    else:
        now = f"has ended ({handoff.state})"
    return HandoffConflictError(f"cannot {what} handoff {handoff.id}: it {now}")
