"""The live handoff's tables, on the bot's metadata (`bot.store.Base`), prefixed `bot_`.

- `bot_handoffs`: one row per handoff: whose conversation, why, its state
  (`waiting` -> `with_agent` -> `released` | `closed`), the agent, the times that
  analytics read, and the e-mail a shopper left for a reply (with consent; never in turns).
- `bot_handoff_messages`: what was said while a handoff was open, by whom (shopper, bot,
  agent), redacted, numbered `seq` 1, 2, ... per conversation. Streams resume from a seq.
- `bot_handoff_threads`: one counter row per conversation that hands out the next `seq`;
  its row lock orders the messages of one conversation across workers.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import (
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from bot.store import Base, JsonType

State = Literal["waiting", "with_agent", "released", "closed"]
OPEN_STATES: tuple[State, ...] = ("waiting", "with_agent")
STATES: tuple[State, ...] = ("waiting", "with_agent", "released", "closed")
Author = Literal["shopper", "bot", "agent"]
# What the shopper's e-mail fallback is at: nothing yet, offered, address asked, given, declined.
EmailState = Literal["none", "offered", "asked", "given", "declined"]


def _now() -> datetime:
    return datetime.now(UTC)


class Handoff(Base):
    """One conversation handed to the support team."""

    __tablename__ = "bot_handoffs"
    __table_args__ = (Index("ix_bot_handoffs_state_created", "state", "created_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    sender_id: Mapped[str] = mapped_column(String(128), index=True)
    state: Mapped[str] = mapped_column(String(20))
    # asked_for_person | fallbacks | complaint | missing_parcel | other
    reason: Mapped[str] = mapped_column(String(30), index=True)
    intent: Mapped[str | None] = mapped_column(String(100))
    # The action server's ticket reference (SUP-...), when it opened one.
    ticket: Mapped[str | None] = mapped_column(String(40))
    # The turn (bot_turns.seq) that handed the conversation over.
    turn_seq: Mapped[int] = mapped_column(Integer)
    agent: Mapped[str | None] = mapped_column(String(60))
    typing_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    email_state: Mapped[str] = mapped_column(String(12), default="none")
    # Left by the shopper, with consent, for a reply by e-mail: only here, never in turns.
    contact_email: Mapped[str | None] = mapped_column(String(320))
    email_offered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now, index=True)
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    first_reply_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # agent | shopper
    ended_by: Mapped[str | None] = mapped_column(String(20))


class HandoffMessage(Base):
    """One message said while a handoff was open (text redacted)."""

    __tablename__ = "bot_handoff_messages"
    __table_args__ = (UniqueConstraint("sender_id", "seq", name="uq_bot_handoff_messages_seq"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    sender_id: Mapped[str] = mapped_column(String(128))
    seq: Mapped[int] = mapped_column(Integer)
    handoff_id: Mapped[int] = mapped_column(
        ForeignKey("bot_handoffs.id", ondelete="CASCADE"), index=True
    )
    author: Mapped[str] = mapped_column(String(10))
    # The agent's display name, on agent messages.
    agent: Mapped[str | None] = mapped_column(String(60))
    text: Mapped[str] = mapped_column(Text)
    # Buttons and other parts of a bot message (redacted).
    data: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    # The model's reading of a shopper message.
    intent: Mapped[str | None] = mapped_column(String(100))
    confidence: Mapped[float | None] = mapped_column(Float)
    # The stored turn (bot_turns.seq) of a shopper message.
    turn_seq: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


class HandoffThread(Base):
    """The last `seq` handed out in one conversation."""

    __tablename__ = "bot_handoff_threads"
    sender_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    last_seq: Mapped[int] = mapped_column(Integer, default=0)
