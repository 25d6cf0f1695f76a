"""Handoff: open a support ticket so a person takes over."""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import select

from actions.access import known_order
from actions.base import EventList, ShopAction, Turn
from actions.models import ShopPolicy, SupportTicket
from actions.orders import utcnow
from actions.parsing import redact_pii

_SUMMARY_MESSAGES = 5
_SUMMARY_CHARS = 2000


def _recent_user_messages(events: list[dict[str, Any]]) -> list[str]:
    texts = [str(e.get("text") or "") for e in events if e.get("event") == "user"]
    return [t[:400] for t in texts if t.strip()][-_SUMMARY_MESSAGES:]


def new_reference(turn: Turn) -> str:
    """A short unguessable ticket reference such as SUP-7F3A9C, unique in the store."""
    while True:
        reference = f"SUP-{secrets.token_hex(3).upper()}"
        taken = turn.session.scalar(
            select(SupportTicket.id).where(SupportTicket.reference == reference)
        )
        if taken is None:
            return reference


class ActionHandoff(ShopAction):
    """Create a support ticket with a PII-redacted summary and return its reference."""

    NAME = "action_handoff"

    def handle(self, turn: Turn) -> EventList:
        """Open the ticket and tell the shopper its reference."""
        messages = _recent_user_messages(list(turn.tracker.events or [])) or [turn.text[:400]]
        summary = redact_pii("\n".join(messages))[:_SUMMARY_CHARS]
        # Only an order this conversation has shown is theirs goes on the ticket.
        order = known_order(turn)
        intent = (turn.tracker.latest_message or {}).get("intent") or {}
        ticket = SupportTicket(
            reference=new_reference(turn),
            sender_id=str(turn.tracker.sender_id)[:200],
            order_id=order.id if order is not None else None,
            intent=str(intent.get("name") or "")[:100] or None,
            summary=summary or "(no message)",
            status="open",
            created_at=utcnow(),
        )
        turn.session.add(ticket)
        turn.session.flush()
        hours = turn.session.get(ShopPolicy, "support")
        about = f" about order {order.number}" if order is not None else ""
        turn.say(
            f"I've passed this to our support team{about}: your ticket is {ticket.reference}. "
            f"{hours.body if hours else 'A person will reply here as soon as possible.'} "
            "Keep the reference in case you contact us another way."
        )
        return []
