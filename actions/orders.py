"""Order operations behind the order actions: lookup, cancel, change address.

State changes are single conditional UPDATEs (`... WHERE status IN (...)`), so two
replicas handling the same request cannot both cancel an order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from sqlalchemy import select, update
from sqlalchemy.orm import Session, selectinload

from actions.models import (
    Invoice,
    Order,
    OrderLine,
    OrderStatus,
    Refund,
    RefundStatus,
    Shipment,
)

CANCELLABLE = (OrderStatus.PLACED.value, OrderStatus.PAID.value)
_RETURN_DAYS_RE = re.compile(r"(\d+)\s*days?", re.IGNORECASE)


def utcnow() -> datetime:
    """Naive UTC now, the convention of every stored timestamp."""
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


def find_order(session: Session, order_id: str | None) -> Order | None:
    """Load an order with its lines, products, shipment, refunds and invoice.

    Args:
        session: Open session.
        order_id: The number the shopper typed (digits only are accepted).

    Returns:
        The order, or None when the id is not a known order number.
    """
    if not order_id or not order_id.isdigit() or len(order_id) > 12:
        return None
    query = (
        select(Order)
        .where(Order.id == int(order_id))
        .options(
            selectinload(Order.lines).selectinload(OrderLine.product),
            selectinload(Order.shipment).selectinload(Shipment.events),
            selectinload(Order.refunds),
            selectinload(Order.invoice),
            selectinload(Order.customer),
        )
    )
    return session.scalars(query).first()


_INVOICE_RE = re.compile(r"INV-?(\d{4})-?(\d{1,12})", re.IGNORECASE)


def find_order_by_invoice(session: Session, reference: str | None) -> Order | None:
    """Find the order of an invoice number ("INV-2026-123456"; "#123456" means the order).

    Args:
        session: Open session.
        reference: What the shopper gave as the invoice number.

    Returns:
        The order, or None when no invoice has that number.
    """
    clean = (reference or "").strip().lstrip("#").strip()[:40]
    m = _INVOICE_RE.fullmatch(clean)
    if m:
        number = f"INV-{m.group(1)}-{m.group(2)}"
        order_id = session.scalar(select(Invoice.order_id).where(Invoice.number == number))
        return find_order(session, str(order_id)) if order_id is not None else None
    return find_order(session, clean) if clean.isdigit() else None


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


def return_days(policy: str) -> int | None:
    """Days allowed for a return by a policy text ("30 days return policy" → 30; none → None)."""
    m = _RETURN_DAYS_RE.search(policy or "")
    return int(m.group(1)) if m else None


def return_deadline(order: Order, policy: str) -> datetime | None:
    """The last day a delivered order's product can be returned under `policy`."""
    days = return_days(policy)
    if days is None or order.delivered_at is None:
        return None
    return order.delivered_at + timedelta(days=days)
