"""Changes to orders on a shopper's behalf: cancel, new address, confirmations, audit.

State changes are single conditional UPDATEs (`... WHERE status IN (...)`), so two
replicas handling the same request cannot both cancel an order. A change waits as a
`PendingChange` until the shopper confirms it, and every change made is audited.

Every function takes an open session and leaves the commit to the caller.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, selectinload

from actions.models import (
    ChangeKind,
    Order,
    OrderAudit,
    OrderStatus,
    PendingChange,
    Refund,
    RefundStatus,
)
from actions.orders import fit_key, utcnow

CANCELLABLE = (OrderStatus.PLACED.value, OrderStatus.PAID.value)


def audit(
    session: Session,
    order: Order,
    *,
    action: str,
    actor: str,
    conversation: str,
    details: dict[str, Any],
) -> None:
    """Record a change made to `order` on a shopper's behalf.

    Args:
        session: Open session (committed by the caller, with the change itself).
        order: The changed order.
        action: What was done (`cancel`, `change_address`; at most 40 characters).
        actor: Who asked: `customer:<sub>` or `guest`.
        conversation: The conversation (sender id) it happened in.
        details: JSON facts such as `{"status_before": "paid", "refund": 12.5}`; pass
            addresses through `actions.orders.mask_address`, never a full street address.

    Raises:
        ValueError: `action` is blank or longer than 40 characters.
    """
    if not action or len(action) > 40:
        raise ValueError(f"expected action to be a short name like 'cancel', but found {action!r}.")
    session.add(
        OrderAudit(
            at=utcnow(),
            actor=fit_key(actor, 160),
            action=action,
            order_id=order.id,
            conversation=fit_key(conversation, 128),
            details=dict(details),
        )
    )


def create_pending_change(
    session: Session,
    order: Order,
    *,
    kind: str,
    actor: str,
    conversation: str,
    new_address: str | None = None,
    ttl: timedelta = timedelta(minutes=10),
) -> str:
    """Park a change until the shopper confirms it; older ones of the conversation go.

    Args:
        session: Open session (committed by the caller).
        order: The order to change.
        kind: `cancel` or `change_address` (`ChangeKind`).
        actor: Who asks: `customer:<sub>` or `guest`.
        conversation: The conversation (sender id) that must confirm it.
        new_address: The address to ship to; required for `change_address`.
        ttl: How long the confirmation stays valid.

    Returns:
        The confirmation token (`secrets.token_urlsafe(24)`).

    Raises:
        ValueError: Unknown `kind`, a `change_address` without an address, or a
            `ttl` that is not positive.
    """
    kinds = [k.value for k in ChangeKind]
    if kind not in kinds:
        raise ValueError(f"expected kind to be one of {', '.join(kinds)}, but found {kind!r}.")
    address = (new_address or "").strip()
    if kind == ChangeKind.CHANGE_ADDRESS and not address:
        raise ValueError(
            "expected a new_address for a change_address, but found none; pass the "
            "address the shopper gave."
        )
    if ttl <= timedelta(0):
        raise ValueError(f"expected ttl to be positive, but found {ttl}.")
    conv = fit_key(conversation, 128)
    session.execute(
        delete(PendingChange)
        .where(PendingChange.conversation == conv)
        .execution_options(synchronize_session="fetch")
    )
    now = utcnow()
    token = secrets.token_urlsafe(24)
    session.add(
        PendingChange(
            token=token,
            conversation=conv,
            actor=fit_key(actor, 160),
            order_id=order.id,
            kind=kind,
            new_address=address[:500] or None,
            created_at=now,
            expires_at=now + ttl,
        )
    )
    session.flush()
    return token


def take_pending_change(
    session: Session, token: str | None, conversation: str
) -> PendingChange | None:
    """Claim a pending change once: it is returned and deleted, or None.

    Args:
        session: Open session (committed by the caller).
        token: The confirmation token from `create_pending_change`.
        conversation: The conversation confirming; another conversation's token
            is not taken (and stays for its own conversation).

    Returns:
        The change (its `order` loaded), or None when the token is unknown, belongs
        to another conversation, was already taken, or expired (an expired change
        is deleted).
    """
    if not token or len(token) > 64:
        return None
    change = session.scalars(
        select(PendingChange)
        .where(PendingChange.token == token)
        .options(selectinload(PendingChange.order))
    ).first()
    if change is None or not hmac.compare_digest(
        change.conversation.encode("utf-8"), fit_key(conversation, 128).encode("utf-8")
    ):
        return None
    now = utcnow()
    expired = change.expires_at <= now
    deleted = session.execute(
        delete(PendingChange)
        .where(PendingChange.token == token)
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    session.expunge(change)
    # Only the caller whose DELETE removed the row gets it (two replicas, one winner).
    if expired or deleted != 1:
        return None
    return change


class CancelOutcome(StrEnum):
    """What happened when a shopper asked to cancel."""

    CANCELLED = "cancelled"
    ALREADY_CANCELLED = "already_cancelled"
    ALREADY_REFUNDED = "already_refunded"
    TOO_LATE = "too_late"


@dataclass(frozen=True)
class CancelResult:
    """Outcome of `cancel_order`, with the refund created for a paid order."""

    outcome: CancelOutcome
    refund_amount: float | None = None


def cancel_order(session: Session, order: Order) -> CancelResult:
    """Cancel an order that has not shipped; a paid order gets a full refund.

    Args:
        session: Open session (committed by the caller).
        order: The order to cancel.

    Returns:
        Whether it was cancelled, or why not.
    """
    now = utcnow()
    changed = session.execute(
        update(Order)
        .where(Order.id == order.id, Order.status.in_(CANCELLABLE))
        .values(status=OrderStatus.CANCELLED.value, cancelled_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    session.refresh(order)
    if changed != 1:
        if order.status == OrderStatus.CANCELLED:
            return CancelResult(CancelOutcome.ALREADY_CANCELLED)
        if order.status == OrderStatus.REFUNDED:
            return CancelResult(CancelOutcome.ALREADY_REFUNDED)
        return CancelResult(CancelOutcome.TOO_LATE)
    if order.paid_at is not None:
        session.add(
            Refund(
                order_id=order.id,
                amount=order.total,
                status=RefundStatus.APPROVED.value,
                reason="Order cancelled before shipping",
                requested_at=now,
            )
        )
        session.flush()
        session.refresh(order)
        return CancelResult(CancelOutcome.CANCELLED, refund_amount=order.total)
    return CancelResult(CancelOutcome.CANCELLED)


def change_shipping_address(session: Session, order: Order, address: str) -> bool:
    """Set a new shipping address if the order has not shipped; returns whether it changed."""
    changed = session.execute(
        update(Order)
        .where(Order.id == order.id, Order.status.in_(CANCELLABLE))
        .values(shipping_address=address.strip()[:500])
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    session.refresh(order)
    return changed == 1
