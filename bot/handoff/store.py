"""The live handoff in SQL: handoffs, their messages, and the per-conversation seq counter.

The database is the record: every message gets its `seq` inside the transaction that
stores it (an upsert on the conversation's `bot_handoff_threads` row, whose row lock
makes commits follow seq order), so a stream that reads `seq > last` never skips or
repeats one, whichever worker wrote it. On PostgreSQL with `LISTEN/NOTIFY` the same
transaction sends the wake-up (`pg_notify`), delivered when it commits.

Methods are blocking; call them from a worker thread. Texts are redacted here, once,
with `privacy.redact`, whoever wrote them.

`HandoffStore` owns the transactions and the wake-ups. The steps inside one live in
`bot.handoff.sql`, the shopper's feed and the agent's transcript in `bot.handoff.views`,
the analytics numbers in `bot.handoff.stats`, the wake-up topics in `bot.handoff.topics`,
and what the store takes and returns in `bot.handoff.records` (all re-exported here,
where callers import them).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, select, text, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from bot.errors import StoreError
from bot.handoff.models import (
    OPEN_STATES,
    EmailState,
    Handoff,
    HandoffMessage,
    HandoffThread,
    State,
)
from bot.handoff.records import HandoffRow as HandoffRow
from bot.handoff.records import HandoffStats as HandoffStats
from bot.handoff.records import HistoryEntry as HistoryEntry
from bot.handoff.records import MessageRow as MessageRow
from bot.handoff.records import OutMessage as OutMessage
from bot.handoff.records import ShopperFeed as ShopperFeed
from bot.handoff.records import Transcript as Transcript
from bot.handoff.sql import (
    ACTIVE,
    HANDOFF_COLUMNS,
    MAX_MESSAGES,
    MESSAGE_COLUMNS,
    conflict,
    get_handoff,
    handoff_row,
    insert_message,
    message_row,
    now,
    queue_position,
    typical_claim_s,
    upsert_for,
)
from bot.handoff.sql import DEFAULT_CLAIM_S as DEFAULT_CLAIM_S
from bot.handoff.sql import redact_keeping_name as redact_keeping_name
from bot.handoff.stats import read_stats
from bot.handoff.topics import CHANNEL as CHANNEL
from bot.handoff.topics import QUEUE_TOPIC as QUEUE_TOPIC
from bot.handoff.topics import conv_topic as conv_topic
from bot.handoff.views import read_shopper_feed, read_transcript
from bot.store import rowcount


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
        self._upsert = upsert_for(engine.dialect.name)

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

    def _insert(self, conn: Connection, handoff: HandoffRow, message: OutMessage) -> MessageRow:
        return insert_message(conn, self._upsert, handoff, message)

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
                    created_at=now(),
                )
                .returning(Handoff.id)
            ).scalar_one()
            handoff = get_handoff(conn, int(new_id))
            position = queue_position(conn, handoff)
            message = self._insert(
                conn, handoff, notice(handoff, position, position * typical_claim_s(conn))
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
                .values(state="with_agent", agent=agent, claimed_at=now())
            ).rowcount
            handoff = get_handoff(conn, handoff_id)
            if not taken:
                raise conflict(handoff, "claim")
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
            handoff = get_handoff(conn, handoff_id, lock=True)
            if handoff.state != "with_agent":
                raise conflict(handoff, "reply")
            if handoff.first_reply_at is None:
                conn.execute(
                    update(Handoff)
                    .where(Handoff.id == handoff_id, Handoff.first_reply_at.is_(None))
                    .values(first_reply_at=now())
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
            before = get_handoff(conn, handoff_id)
            ended = conn.execute(
                update(Handoff)
                .where(Handoff.id == handoff_id, Handoff.state.in_(OPEN_STATES))
                .values(state=state, ended_at=now(), ended_by=by, typing_at=None)
            ).rowcount
            if not ended:
                raise conflict(before, "release" if state == "released" else "close")
            handoff = get_handoff(conn, handoff_id)
            out = notice(handoff)
            return handoff, self._insert(conn, handoff, out) if out is not None else None

        result: tuple[HandoffRow, MessageRow | None] = self._write(
            work, lambda r: (conv_topic(r[0].sender_id), QUEUE_TOPIC)
        )
        return result

    def typing(self, handoff_id: int) -> HandoffRow:
        """Note that the agent is typing (the shopper's widget shows it for a few seconds)."""

        def work(conn: Connection) -> HandoffRow:
            handoff = get_handoff(conn, handoff_id)
            if handoff.state != "with_agent":
                raise conflict(handoff, "type in")
            conn.execute(update(Handoff).where(Handoff.id == handoff_id).values(typing_at=now()))
            return get_handoff(conn, handoff_id)

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
                .values(email_offered_at=now(), email_state="offered")
            ).rowcount
            handoff = get_handoff(conn, handoff_id)
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
        result: HandoffRow = self._read(lambda conn: get_handoff(conn, handoff_id))
        return result

    def active(self, sender_id: str) -> HandoffRow | None:
        """The conversation's open handoff (waiting or with an agent), if any."""

        def work(conn: Connection) -> HandoffRow | None:
            row = conn.execute(ACTIVE, {"sid": sender_id}).one_or_none()
            return handoff_row(row) if row is not None else None

        result: HandoffRow | None = self._read(work)
        return result

    def in_states(self, states: Sequence[str], limit: int = 200) -> list[HandoffRow]:
        """Handoffs in these states, oldest first."""

        def work(conn: Connection) -> list[HandoffRow]:
            rows = conn.execute(
                select(*HANDOFF_COLUMNS)
                .where(Handoff.state.in_(list(states)))
                .order_by(Handoff.created_at, Handoff.id)
                .limit(limit)
            )
            return [handoff_row(r) for r in rows]

        result: list[HandoffRow] = self._read(work)
        return result

    def position(self, handoff: HandoffRow) -> tuple[int, float]:
        """The handoff's place in the queue (1: next) and the expected wait in seconds."""

        def work(conn: Connection) -> tuple[int, float]:
            place = queue_position(conn, handoff)
            return place, place * typical_claim_s(conn)

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
        limit: int = MAX_MESSAGES,
    ) -> list[MessageRow]:
        """A conversation's handoff messages with `seq > after`, in seq order."""

        def work(conn: Connection) -> list[MessageRow]:
            query = (
                select(*MESSAGE_COLUMNS)
                .where(HandoffMessage.sender_id == sender_id, HandoffMessage.seq > after)
                .order_by(HandoffMessage.seq)
                .limit(limit)
            )
            if authors is not None:
                query = query.where(HandoffMessage.author.in_(list(authors)))
            return [message_row(r) for r in conn.execute(query)]

        result: list[MessageRow] = self._read(work)
        return result

    def shopper_feed(self, sender_id: str, after: int) -> ShopperFeed:
        """New bot and agent messages for the shopper's stream, and the latest handoff."""

        result: ShopperFeed = self._read(lambda conn: read_shopper_feed(conn, sender_id, after))
        return result

    def transcript(self, handoff_id: int) -> Transcript:
        """The handoff, what came before it (turns with the model's intents, earlier
        handoffs) and its own messages.

        Raises:
            HandoffNotFoundError: No such handoff.
        """

        result: Transcript = self._read(lambda conn: read_transcript(conn, handoff_id))
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

        result: HandoffStats = self._read(lambda conn: read_stats(conn, since))
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
