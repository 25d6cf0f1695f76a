"""Trackers and transcripts in SQL (SQLAlchemy 2.x): SQLite by default, PostgreSQL by URL.

The bot owns three tables, all prefixed `bot_` so they never clash with the action
server's tables or migrations in a shared database:

- `bot_conversations`: one row per sender, with the tracker state as JSON.
- `bot_turns`: one row per message: redacted text, parse result, model version,
  actions, replies, latency. Review pages and retraining read this table.
- `bot_locks`: lease rows that keep one conversation's messages in order across
  worker processes, on SQLite and PostgreSQL alike.

A lease is a row, not a held connection: a turn uses a pooled connection only for the
statements that take, renew and give back its lease, so the number of turns in flight
is not bounded by the connection pool (a turn holding a connection for its whole run,
action call included, while its own steps need a second one, stalls the worker once
the pool is taken). On PostgreSQL the lease clock is the server's, shared by every host.

Locks fail safe: a lease lasts `LEASE_S` and a background thread renews it while the
turn runs, so a crashed worker's conversation is free again within seconds (a waiting
message gets in instead of timing out). A turn still running after `max_hold_s` is
taken as wedged and no longer renewed; if another worker then takes the conversation,
the late turn's `save` fails instead of overwriting the newer state.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    bindparam,
    delete,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from bot.errors import StoreError
from core.db import database_url, make_engine

logger = logging.getLogger(__name__)

JsonType = JSON().with_variant(JSONB(), "postgresql")
# A crashed worker's conversation is free again after at most this long.
LEASE_S = 10.0
# The longest a turn may hold its conversation before it counts as wedged.
MAX_HOLD_S = 60.0
# `pg_advisory_xact_lock` key under which one starting worker creates the bot's tables.
_CREATE_TABLES_LOCK = 715518


def _now() -> datetime:
    return datetime.now(UTC)


def rowcount(result: object) -> int:
    """Rows an UPDATE or DELETE changed (0 when the driver does not say)."""
    return int(getattr(result, "rowcount", 0) or 0)


class Base(DeclarativeBase):
    """The bot's tables (separate metadata from the action server's)."""


class Conversation(Base):
    """One conversation (one REST channel sender)."""

    __tablename__ = "bot_conversations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    sender_id: Mapped[str] = mapped_column(String(128), unique=True, index=True)
    state: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    turn_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


class Turn(Base):
    """One shopper message and the bot's answer."""

    __tablename__ = "bot_turns"
    __table_args__ = (UniqueConstraint("conversation_id", "seq", name="uq_bot_turns_seq"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("bot_conversations.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    sender_id: Mapped[str] = mapped_column(String(128), index=True)
    text: Mapped[str] = mapped_column(Text)
    intent: Mapped[str | None] = mapped_column(String(100), index=True)
    confidence: Mapped[float | None] = mapped_column(Float)
    intent_ranking: Mapped[list[Any]] = mapped_column(JsonType, default=list)
    entities: Mapped[list[Any]] = mapped_column(JsonType, default=list)
    parse_data: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    model_version: Mapped[str | None] = mapped_column(String(100))
    action: Mapped[str | None] = mapped_column(String(100))
    actions: Mapped[list[Any]] = mapped_column(JsonType, default=list)
    replies: Mapped[list[Any]] = mapped_column(JsonType, default=list)
    error: Mapped[str | None] = mapped_column(Text)
    latency_ms: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now, index=True)


class Lock(Base):
    """A lease on one conversation, held while a worker handles its message."""

    __tablename__ = "bot_locks"
    sender_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    owner: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[float] = mapped_column(Float)


@dataclass
class TurnRecord:
    """Everything stored about one turn (text already redacted)."""

    text: str
    parse_data: dict[str, Any]
    model_version: str | None
    actions: list[str]
    replies: list[Any]
    error: str | None
    latency_ms: float


@dataclass
class Held:
    """A conversation lock held by this worker; pass it back to `save` and `release`."""

    sender_id: str
    owner: str
    conversation_id: int
    state: dict[str, Any] | None
    seq: int
    acquired_at: float = field(default_factory=time.monotonic)


class _LeaseKeeper:
    """Renews the locks one store holds, from one daemon thread, while their turns run.

    Args:
        renew: Extends one lock; returns False when it was lost.
        every_s: Seconds between two renewals (a fraction of the lease).
        max_hold_s: Locks held longer are no longer renewed (the turn is wedged).
    """

    def __init__(self, renew: Callable[[Held], bool], every_s: float, max_hold_s: float) -> None:
        self._renew = renew
        self.every_s = every_s
        self.max_hold_s = max_hold_s
        self._held: dict[int, Held] = {}
        self._mutex = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def add(self, held: Held) -> None:
        with self._mutex:
            self._held[id(held)] = held
            if self._thread is None or not self._thread.is_alive():
                self._stop.clear()
                self._thread = threading.Thread(
                    target=self._run, name="shopintent-lock-renewal", daemon=True
                )
                self._thread.start()

    def discard(self, held: Held) -> None:
        with self._mutex:
            self._held.pop(id(held), None)

    def close(self) -> None:
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=self.every_s + 1)
        self._thread = None

    def _run(self) -> None:
        while not self._stop.wait(self.every_s):
            with self._mutex:
                held = list(self._held.values())
            for one in held:
                if time.monotonic() - one.acquired_at > self.max_hold_s:
                    logger.warning(
                        "conversation %r held for over %.0fs: no longer renewing its lock",
                        one.sender_id,
                        self.max_hold_s,
                    )
                    self.discard(one)
                    continue
                try:
                    kept = self._renew(one)
                except Exception:
                    logger.exception("could not renew the lock of %r", one.sender_id)
                    continue
                if not kept:
                    self.discard(one)


class TranscriptStore:
    """The bot's database access. Methods are blocking; call them from a worker thread.

    Args:
        url: SQLAlchemy URL, e.g. `sqlite:///shopintent.db` or
            `postgresql+psycopg://postgres@127.0.0.1:5432/test`.
        lock_timeout_s: How long to wait for another worker to finish a conversation's turn.
        lease_s: How long a lock outlives a worker that died holding it.
        max_hold_s: How long a turn may hold its lock before it is no longer renewed.
    """

    def __init__(
        self,
        url: str,
        lock_timeout_s: float = 30.0,
        *,
        lease_s: float = LEASE_S,
        max_hold_s: float = MAX_HOLD_S,
    ) -> None:
        url = database_url(url)
        try:
            self.engine: Engine = make_engine(url)
        except (SQLAlchemyError, ImportError, ValueError) as exc:
            raise StoreError(
                f"could not use the database URL {url!r} ({exc}); "
                "set SHOPINTENT_DATABASE_URL to e.g. sqlite:///shopintent.db"
            ) from exc
        self.lock_timeout_s = lock_timeout_s
        self.lease_s = lease_s
        self.is_postgres = self.engine.dialect.name == "postgresql"
        self._keeper = _LeaseKeeper(self.renew, every_s=lease_s / 3, max_hold_s=max_hold_s)
        self._sql = _Statements(self)

    def create_tables(self) -> None:
        """Create the bot's tables if they do not exist (the action server's are untouched)."""
        # Every module with tables on this Base, so `create_all` sees them all.
        import bot.events
        import bot.handoff.models
        import bot.review.sessions
        import bot.review.store  # noqa: F401

        try:
            with self.engine.begin() as conn:
                if self.is_postgres:
                    # Workers starting together: one creates the tables, the others wait here.
                    conn.execute(
                        text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CREATE_TABLES_LOCK}
                    )
                Base.metadata.create_all(conn)
        except SQLAlchemyError as exc:
            raise StoreError(f"could not create the bot's tables: {exc}") from exc

    def ping(self) -> bool:
        """Tell whether the database answers."""
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except SQLAlchemyError:
            return False
        return True

    def dispose(self) -> None:
        """Stop renewing locks and close the connection pool."""
        self._keeper.close()
        self.engine.dispose()

    # -- per-conversation lock -------------------------------------------------

    def acquire(self, sender_id: str) -> Held:
        """Lock one conversation and read its state.

        Args:
            sender_id: The conversation.

        Returns:
            The held lock with the stored tracker state (None for a new conversation).

        Raises:
            StoreError: The lock was not free within `lock_timeout_s`, or the database failed.
        """
        try:
            held = self._acquire_lease(sender_id)
        except SQLAlchemyError as exc:
            raise StoreError(f"could not lock conversation {sender_id!r}: {exc}") from exc
        self._keeper.add(held)
        return held

    def renew(self, held: Held) -> bool:
        """Extend a held lock by `lease_s` (the store's renewal thread calls this).

        Returns:
            False when the lock is gone: released, or taken by another worker after it
            ran out.

        Raises:
            StoreError: The database failed.
        """
        try:
            with self.engine.begin() as conn:
                kept = conn.execute(
                    self._sql.renew,
                    {**self._sql.now(), "lease_sender": held.sender_id, "lease_owner": held.owner},
                ).rowcount
            return bool(kept)
        except SQLAlchemyError as exc:
            raise StoreError(f"could not renew the lock of {held.sender_id!r}: {exc}") from exc

    def _insert(self, table: type[Base]) -> Any:
        """An INSERT that can skip rows already there (`on_conflict_do_nothing`)."""
        return (pg_insert if self.is_postgres else sqlite_insert)(table)

    def _acquire_lease(self, sender_id: str) -> Held:
        owner = uuid.uuid4().hex
        deadline = time.monotonic() + self.lock_timeout_s
        pause = 0.005
        while True:
            with self.engine.begin() as conn:
                params = {**self._sql.now(), "lease_sender": sender_id, "lease_owner": owner}
                conn.execute(self._sql.drop_expired, params)
                # RETURNING, not rowcount: psycopg reports no count for an INSERT here.
                took = conn.execute(self._sql.take, params).first()
                if took is not None:
                    row = conn.execute(self._sql.conversation, params).one_or_none()
                    if row is None:
                        conv_id = conn.execute(
                            insert(Conversation)
                            .values(sender_id=sender_id, state={}, turn_count=0)
                            .returning(Conversation.id)
                        ).scalar_one()
                        return Held(sender_id, owner, conv_id, None, 1)
                    return Held(sender_id, owner, row.id, row.state or None, row.turn_count + 1)
            if time.monotonic() > deadline:
                raise StoreError(
                    f"conversation {sender_id!r} stayed locked for {self.lock_timeout_s:.0f}s; "
                    "another worker is still answering it (raise SHOPINTENT_LOCK_TIMEOUT_S if "
                    "actions are slow)"
                )
            time.sleep(pause)
            pause = min(pause * 2, 0.1)

    def save(self, held: Held, state: dict[str, Any], record: TurnRecord) -> int:
        """Store the turn and the new tracker state, then release the lock.

        Args:
            held: The lock from `acquire`.
            state: The tracker state after the turn.
            record: The turn.

        Returns:
            The new turn's id.

        Raises:
            StoreError: The database failed, or the lock ran out and another worker took
                the conversation meanwhile (nothing is stored then).
        """
        self._keeper.discard(held)
        parse = record.parse_data
        intent = parse.get("intent") or {}
        row = {
            "conversation_id": held.conversation_id,
            "seq": held.seq,
            "sender_id": held.sender_id,
            "text": record.text,
            "intent": intent.get("name"),
            "confidence": intent.get("confidence"),
            "intent_ranking": parse.get("intent_ranking") or [],
            "entities": parse.get("entities") or [],
            "parse_data": parse,
            "model_version": record.model_version,
            "action": record.actions[-1] if record.actions else None,
            "actions": record.actions,
            "replies": record.replies,
            "error": record.error,
            "latency_ms": record.latency_ms,
            "created_at": _now(),
        }
        try:
            with self.engine.begin() as conn:
                # Giving the lease back in the transaction that stores the turn fences a
                # late turn out: once another worker took the lease, nothing is stored.
                mine = conn.execute(
                    self._sql.give_back, {"lease_sender": held.sender_id, "lease_owner": held.owner}
                ).rowcount
                if not mine:
                    raise StoreError(
                        f"the lock of conversation {held.sender_id!r} ran out while this "
                        f"turn ran (longer than {self._keeper.max_hold_s:.0f}s, or the "
                        "renewals failed) and another worker took it; the turn was not "
                        "stored"
                    )
                turn_id = conn.execute(self._sql.add_turn, row).scalar_one()
                conn.execute(
                    self._sql.update_conversation,
                    {
                        "conv_id": held.conversation_id,
                        "conv_state": state,
                        "conv_turns": held.seq,
                        "conv_updated": _now(),
                    },
                )
            return int(turn_id)
        except SQLAlchemyError as exc:
            raise StoreError(f"could not store the turn of {held.sender_id!r}: {exc}") from exc

    def release(self, held: Held) -> None:
        """Give the lock back without storing anything (after a failure). Safe to repeat."""
        self._keeper.discard(held)
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    delete(Lock).where(Lock.sender_id == held.sender_id, Lock.owner == held.owner)
                )
        except SQLAlchemyError:
            pass  # the lease expires on its own

    # -- reading -------------------------------------------------------------

    def turns(self, sender_id: str | None = None, limit: int = 1000) -> list[dict[str, Any]]:
        """Return stored turns, oldest first, optionally of one sender.

        Args:
            sender_id: Only this conversation's turns.
            limit: At most this many turns.

        Returns:
            One dict per turn with the `bot_turns` columns.
        """
        query = select(*Turn.__table__.columns).order_by(Turn.sender_id, Turn.seq).limit(limit)
        if sender_id is not None:
            query = query.where(Turn.sender_id == sender_id)
        with self.engine.connect() as conn:
            return [dict(row._mapping) for row in conn.execute(query)]


class _Statements:
    """The statements of every turn, built once per store (with bound parameters).

    Building a statement and computing its cache key took more CPU than running it on
    SQLite (about half of `acquire` + `save`); a statement object built once keeps both.
    """

    def __init__(self, store: TranscriptStore) -> None:
        sid: Any = bindparam("lease_sender")
        owner: Any = bindparam("lease_owner")
        # Now, in seconds since the epoch, as the leases count it: on PostgreSQL the
        # server's clock, so workers on several hosts agree on when a lease ran out; on
        # SQLite this machine's, passed in (`now()`).
        self._local_clock = not store.is_postgres
        now: Any = (
            bindparam("lease_now")
            if self._local_clock
            else func.extract("epoch", func.clock_timestamp())
        )
        self.drop_expired = delete(Lock).where(Lock.sender_id == sid, Lock.expires_at < now)
        self.take = (
            store._insert(Lock)
            .values(sender_id=sid, owner=owner, expires_at=now + store.lease_s)
            .on_conflict_do_nothing(index_elements=["sender_id"])
            .returning(Lock.sender_id)
        )
        self.conversation = select(
            Conversation.id, Conversation.state, Conversation.turn_count
        ).where(Conversation.sender_id == sid)
        self.renew = (
            update(Lock)
            .where(Lock.sender_id == sid, Lock.owner == owner)
            .values(expires_at=now + store.lease_s)
        )
        self.give_back = delete(Lock).where(Lock.sender_id == sid, Lock.owner == owner)
        self.add_turn = insert(Turn).returning(Turn.id)
        self.update_conversation = (
            update(Conversation)
            .where(Conversation.id == bindparam("conv_id"))
            .values(
                state=bindparam("conv_state", type_=JsonType),
                turn_count=bindparam("conv_turns"),
                updated_at=bindparam("conv_updated"),
            )
        )

    def now(self) -> dict[str, float]:
        """The `now` parameter on SQLite (PostgreSQL reads its own clock in the statement)."""
        return {"lease_now": time.time()} if self._local_clock else {}
