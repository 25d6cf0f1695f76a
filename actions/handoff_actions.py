"""Handoff: open a support ticket so a person takes over."""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import select

from actions.access import known_order
from actions.base import EventList, ShopAction, Turn, slot_events
from actions.models import ShopPolicy, SupportTicket
from actions.orders import utcnow
from privacy import redact

_SUMMARY_MESSAGES = 5
_SUMMARY_CHARS = 2000
_NO_MESSAGE = "(no message)"


def _recent_user_messages(events: list[dict[str, Any]]) -> list[str]:
    texts = [str(e.get("text") or "") for e in events if e.get("event") == "user"]
    return [t[:400] for t in texts if t.strip()][-_SUMMARY_MESSAGES:]


def open_ticket(turn: Turn, sender_id: str) -> SupportTicket | None:
    """The conversation's open ticket, if it has one (the newest, should there be several)."""
    return turn.session.scalars(
        select(SupportTicket)
        .where(SupportTicket.sender_id == sender_id, SupportTicket.status == "open")
        .order_by(SupportTicket.id.desc())
        .limit(1)
    ).first()


def merge_summary(old: str, new: str) -> str:
    """`old` plus the lines of `new` it lacks; the oldest lines go first past the size limit."""
    lines = [] if old == _NO_MESSAGE else old.splitlines()
    lines += [line for line in new.splitlines() if line.strip() and line not in lines]
    while len(lines) > 1 and len("\n".join(lines)) > _SUMMARY_CHARS:
        lines.pop(0)
    return "\n".join(lines)[-_SUMMARY_CHARS:] or _NO_MESSAGE


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
    """Open a support ticket with a PII-redacted summary and return its reference.

    A conversation has one open ticket at a time: a later handoff adds its messages to
    that ticket and answers with the same reference. The reference also goes into the
    protected slot `handoff_ticket`, so the bot's live handoff queue shows it to agents.
    """

    NAME = "action_handoff"

    def handle(self, turn: Turn) -> EventList:
        """Open the ticket (or add to the open one) and tell the shopper its reference."""
        messages = _recent_user_messages(list(turn.tracker.events or [])) or [turn.text[:400]]
        # The bot sends redacted texts already; redacting again also covers other callers.
        summary = redact("\n".join(messages))[:_SUMMARY_CHARS]
        # Only an order this conversation has shown is theirs goes on the ticket.
        order = known_order(turn)
        intent = (turn.tracker.latest_message or {}).get("intent") or {}
        sender_id = str(turn.tracker.sender_id)[:200]
        ticket = open_ticket(turn, sender_id)
        if ticket is None:
            ticket = SupportTicket(
                reference=new_reference(turn),
                sender_id=sender_id,
                order_id=order.id if order is not None else None,
                intent=str(intent.get("name") or "")[:100] or None,
                summary=summary or _NO_MESSAGE,
                status="open",
                created_at=utcnow(),
            )
            turn.session.add(ticket)
            passed = "I've passed this to our support team"
        else:
            ticket.summary = merge_summary(ticket.summary, summary)
            if ticket.order_id is None and order is not None:
                ticket.order_id = order.id
            passed = "I've added this to your open request with our support team"
        turn.session.flush()
        hours = turn.session.get(ShopPolicy, "support")
        about = f" about order {order.number}" if order is not None else ""
        turn.say(
            f"{passed}{about}: your ticket is {ticket.reference}. "
            f"{hours.body if hours else 'A person will reply here as soon as possible.'} "
            "Keep the reference in case you contact us another way."
        )
        return slot_events(handoff_ticket=ticket.reference)
