"""What the handoff store takes in and hands out: handoffs, messages, transcripts, numbers.

Frozen dataclasses, built from the rows of `bot.handoff.models`' tables (`bot.handoff.sql`)
and passed to the service and the routes; they never hold a database session.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.handoff.models import OPEN_STATES, Author, EmailState, State


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

    def as_history(self) -> HistoryEntry:
        """This message as a line of the conversation (before a later handoff, or in the API)."""
        return HistoryEntry(
            author=self.author,
            text=self.text,
            at=self.created_at,
            agent=self.agent,
            intent=self.intent,
            confidence=self.confidence,
            turn_seq=self.turn_seq,
        )


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
