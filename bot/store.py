"""Trackers and transcripts in SQL (SQLAlchemy 2.x): SQLite by default, PostgreSQL by URL.

The bot owns three tables, all prefixed `bot_` so they never clash with the action
server's tables or migrations in a shared database:

- `bot_conversations`: one row per sender, with the tracker state as JSON.
- `bot_turns`: one row per message: redacted text, parse result, model version,
  actions, replies, latency. Review pages and retraining read this table.
- `bot_locks`: lease rows that keep one conversation's messages in order across
  worker processes on SQLite (PostgreSQL uses `SELECT ... FOR UPDATE` instead).
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
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
    create_engine,
    delete,
    event,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from bot.errors import StoreError

JsonType = JSON().with_variant(JSONB(), "postgresql")
LEASE_S = 120.0


def _now() -> datetime:
    return datetime.now(UTC)


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
    connection: Connection | None = None  # PostgreSQL: the transaction holding FOR UPDATE


class TranscriptStore:
    """The bot's database access. Methods are blocking; call them from a worker thread.

    Args:
        url: SQLAlchemy URL, e.g. `sqlite:///shopintent.db` or
            `postgresql+psycopg://postgres@127.0.0.1:5432/test`.
        lock_timeout_s: How long to wait for another worker to finish a conversation's turn.
    """

    def __init__(self, url: str, lock_timeout_s: float = 30.0) -> None:
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
        try:
            self.engine: Engine = create_engine(url, pool_pre_ping=True, **_engine_options(url))
        except (SQLAlchemyError, ImportError, ValueError) as exc:
            raise StoreError(
                f"could not use the database URL {url!r} ({exc}); "
                "set SHOPINTENT_DATABASE_URL to e.g. sqlite:///shopintent.db"
            ) from exc
        self.lock_timeout_s = lock_timeout_s
        self.is_postgres = self.engine.dialect.name == "postgresql"
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)

    def create_tables(self) -> None:
        """Create the bot's tables if they do not exist (the action server's are untouched)."""
        try:
            Base.metadata.create_all(self.engine)
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
        """Close the connection pool."""
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
            if self.is_postgres:
                return self._acquire_postgres(sender_id)
            return self._acquire_lease(sender_id)
        except SQLAlchemyError as exc:
            raise StoreError(f"could not lock conversation {sender_id!r}: {exc}") from exc

    def _acquire_postgres(self, sender_id: str) -> Held:
        conn = self.engine.connect()
        try:
            conn.execute(
                pg_insert(Conversation)
                .values(sender_id=sender_id, state={}, turn_count=0)
                .on_conflict_do_nothing(index_elements=["sender_id"])
            )
            conn.commit()
            conn.execute(text(f"SET LOCAL lock_timeout = '{int(self.lock_timeout_s * 1000)}ms'"))
            row = conn.execute(
                select(Conversation.id, Conversation.state, Conversation.turn_count)
                .where(Conversation.sender_id == sender_id)
                .with_for_update()
            ).one()
        except BaseException:
            conn.rollback()
            conn.close()
            raise
        return Held(sender_id, "", row.id, row.state or None, row.turn_count + 1, conn)

    def _acquire_lease(self, sender_id: str) -> Held:
        owner = uuid.uuid4().hex
        deadline = time.monotonic() + self.lock_timeout_s
        pause = 0.005
        while True:
            with self.engine.begin() as conn:
                now = time.time()
                conn.execute(delete(Lock).where(Lock.sender_id == sender_id, Lock.expires_at < now))
                took = conn.execute(
                    sqlite_insert(Lock)
                    .values(sender_id=sender_id, owner=owner, expires_at=now + LEASE_S)
                    .on_conflict_do_nothing(index_elements=["sender_id"])
                ).rowcount
                if took == 1:
                    row = conn.execute(
                        select(Conversation.id, Conversation.state, Conversation.turn_count).where(
                            Conversation.sender_id == sender_id
                        )
                    ).one_or_none()
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
        """
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
        conv = (
            update(Conversation)
            .where(Conversation.id == held.conversation_id)
            .values(state=state, turn_count=held.seq, updated_at=_now())
        )
        try:
            if held.connection is not None:
                conn = held.connection
                turn_id = conn.execute(insert(Turn).values(**row).returning(Turn.id)).scalar_one()
                conn.execute(conv)
                conn.commit()
                conn.close()
                held.connection = None
                return int(turn_id)
            with self.engine.begin() as conn:
                turn_id = conn.execute(insert(Turn).values(**row).returning(Turn.id)).scalar_one()
                conn.execute(conv)
                conn.execute(
                    delete(Lock).where(Lock.sender_id == held.sender_id, Lock.owner == held.owner)
                )
            return int(turn_id)
        except SQLAlchemyError as exc:
            raise StoreError(f"could not store the turn of {held.sender_id!r}: {exc}") from exc

    def release(self, held: Held) -> None:
        """Give the lock back without storing anything (after a failure). Safe to repeat."""
        try:
            if held.connection is not None:
                held.connection.rollback()
                held.connection.close()
                held.connection = None
            elif held.owner:
                with self.engine.begin() as conn:
                    conn.execute(
                        delete(Lock).where(
                            Lock.sender_id == held.sender_id, Lock.owner == held.owner
                        )
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


def _engine_options(url: str) -> dict[str, Any]:
    if url.startswith("sqlite"):
        # Wait on a busy database instead of failing: several threads write.
        return {"connect_args": {"timeout": 30, "check_same_thread": False}}
    return {"pool_size": 10, "max_overflow": 20}


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
