"""How long the action server keeps shoppers' free text, and erasing it on request.

The action server stores little about shoppers: support tickets carry a (redacted)
summary of what the shopper wrote, and failed order lookups and pending changes
carry a conversation id for a while. Orders themselves are the shop's records and
stay; the audit table keeps who changed what (ids, never free text).

- `purge(session, cutoff)`: blanks ticket summaries older than the retention period,
  deletes lookup failures older than it and pending changes that expired.
- `forget(session, sender_ids)`: blanks those conversations' ticket summaries and
  deletes their lookup failures and pending changes.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from actions.models import OrderLookupFailure, PendingChange, SupportTicket
from actions.orders import utcnow

ERASED = "(erased on request)"
EXPIRED = "(removed after the retention period)"
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Erased:
    """What a purge or erasure changed in the action server's tables."""

    ticket_texts: int = 0
    lookup_failures: int = 0
    pending_changes: int = 0

    def describe(self) -> str:
        """ "1 ticket text, 3 lookup failure(s), 0 pending change(s)"."""
        return (
            f"{self.ticket_texts} ticket text(s), {self.lookup_failures} failed order "
            f"lookup(s), {self.pending_changes} pending change(s)"
        )


def _count(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


def forget(session: Session, sender_ids: Iterable[str]) -> Erased:
    """Erase what these conversations left: ticket text, lookup counters, pending changes.

    Args:
        session: Open session (committed by the caller).
        sender_ids: Conversation ids.

    Returns:
        What was erased.
    """
    senders = sorted({s for s in sender_ids if s})
    if not senders:
        return Erased()
    texts = session.execute(
        update(SupportTicket)
        .where(SupportTicket.sender_id.in_(senders), SupportTicket.summary != ERASED)
        .values(summary=ERASED)
        .execution_options(synchronize_session=False)
    )
    failures = session.execute(
        delete(OrderLookupFailure).where(
            OrderLookupFailure.scope == "conversation", OrderLookupFailure.key.in_(senders)
        )
    )
    pending = session.execute(delete(PendingChange).where(PendingChange.conversation.in_(senders)))
    return Erased(_count(texts), _count(failures), _count(pending))


def purge(session: Session, cutoff: datetime) -> Erased:
    """Blank ticket texts and drop lookup failures older than `cutoff` (naive UTC).

    Args:
        session: Open session (committed by the caller).
        cutoff: Rows created before it are purged.

    Returns:
        What was purged.
    """
    texts = session.execute(
        update(SupportTicket)
        .where(
            SupportTicket.created_at < cutoff,
            SupportTicket.summary.not_in((ERASED, EXPIRED)),
        )
        .values(summary=EXPIRED)
        .execution_options(synchronize_session=False)
    )
    failures = session.execute(delete(OrderLookupFailure).where(OrderLookupFailure.at < cutoff))
    pending = session.execute(delete(PendingChange).where(PendingChange.expires_at < utcnow()))
    erased = Erased(_count(texts), _count(failures), _count(pending))
    if erased.ticket_texts or erased.lookup_failures:
        logger.info("retention: %s older than %s", erased.describe(), cutoff.date())
    return erased
