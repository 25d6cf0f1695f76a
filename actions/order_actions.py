"""Order actions: status and tracking, cancel, change address, invoice, refund status."""

from __future__ import annotations

from actions.base import EventList, ShopAction, Turn, slot_events
from actions.models import Order, OrderStatus
from actions.orders import (
    CancelOutcome,
    cancel_order,
    change_shipping_address,
    find_order,
    find_order_by_invoice,
)
from actions.parsing import extract_address
from actions.replies import ask_buttons, day, money, truncate

_ASK_ORDER = (
    "What's your order number? It's the 6-digit number in your confirmation e-mail "
    "(for example 123456)."
)


def _load_order(turn: Turn, action: str) -> Order | None:
    """The order the shopper means, replying for them when it is missing or unknown."""
    order_id = turn.order_id()
    if not order_id:
        turn.say(f"{_ASK_ORDER} Then I can {action}.")
        return None
    order = find_order(turn.session, order_id)
    if order is None:
        shown = truncate(order_id, 20)
        hint = "" if len(order_id) == 6 else " Order numbers have 6 digits."
        turn.say(
            f"I couldn't find an order with the number {shown}.{hint} Please check the "
            "confirmation e-mail and send the number again, or ask for a person.",
            buttons=ask_buttons([("Talk to a person", "I want to talk to a person")]),
        )
        return None
    return order


def _items(order: Order) -> str:
    names = [f"{ln.quantity} × {ln.product.title}" for ln in order.lines]
    return ", ".join(names[:4]) + (f" and {len(names) - 4} more" if len(names) > 4 else "")


class ActionOrderStatus(ShopAction):
    """Where an order is: status, dates, carrier, tracking number, latest scan."""

    NAME = "action_order_status"

    def handle(self, turn: Turn) -> EventList:
        """Reply with the order's status and tracking."""
        order = _load_order(turn, "check where it is")
        if order is None:
            return []
        head = f"Order {order.id} ({_items(order)}, {money(order.total)})"
        status = OrderStatus(order.status)
        shipment = order.shipment
        buttons = []
        if status == OrderStatus.PLACED:
            text = f"{head} was placed on {day(order.placed_at)} and is waiting for payment."
            buttons.append(("Cancel it", f"Cancel order {order.id}"))
        elif status == OrderStatus.PAID:
            text = (
                f"{head} is paid (on {day(order.paid_at)}) and being packed; it will ship by "
                f"{order.shipping_method} delivery."
            )
            buttons.append(("Change address", f"Change the shipping address of order {order.id}"))
            buttons.append(("Cancel it", f"Cancel order {order.id}"))
        elif status == OrderStatus.CANCELLED:
            text = f"{head} was cancelled on {day(order.cancelled_at)}."
            if order.refunds:
                buttons.append(("Refund status", f"Refund status of order {order.id}"))
        elif status == OrderStatus.REFUNDED:
            text = f"{head} was delivered on {day(order.delivered_at)} and has been refunded."
            buttons.append(("Refund details", f"Refund status of order {order.id}"))
        elif shipment is None:
            text = f"{head} is {status.value}."
        else:
            track = f"{shipment.carrier} tracking number {shipment.tracking_number}"
            last = shipment.events[-1] if shipment.events else None
            scan = (
                f" Latest scan: {last.description} in {last.location} on {day(last.occurred_at)}."
                if last
                else ""
            )
            if status == OrderStatus.DELIVERED:
                text = f"{head} was delivered on {day(order.delivered_at)} ({track})."
                buttons.append(("Return it", f"How do I return order {order.id}?"))
            else:
                text = (
                    f"{head} shipped on {day(order.shipped_at)} with {track}. Expected "
                    f"delivery: {day(shipment.estimated_delivery)}.{scan}"
                )
        buttons.append(("Invoice", f"Invoice for order {order.id}"))
        turn.say(text, buttons=ask_buttons(buttons))
        return slot_events(order_id=order.id)


class ActionCancelOrder(ShopAction):
    """Cancel an order that has not shipped yet; explain why not otherwise."""

    NAME = "action_cancel_order"

    def handle(self, turn: Turn) -> EventList:
        """Cancel the order (and refund it if paid), or say why it cannot be cancelled."""
        order = _load_order(turn, "cancel it")
        if order is None:
            return []
        previous = order.status
        result = cancel_order(turn.session, order)
        if result.outcome == CancelOutcome.CANCELLED:
            refund = (
                f" Your payment of {money(result.refund_amount)} will be refunded to your "
                f"{order.payment_method} within 5-10 business days."
                if result.refund_amount is not None
                else " You haven't been charged."
            )
            turn.say(f"Done: order {order.id} is cancelled.{refund}")
        elif result.outcome == CancelOutcome.ALREADY_CANCELLED:
            turn.say(
                f"Order {order.id} is already cancelled (since {day(order.cancelled_at)}); "
                "there is nothing more to do.",
                buttons=ask_buttons([("Refund status", f"Refund status of order {order.id}")]),
            )
        elif result.outcome == CancelOutcome.ALREADY_REFUNDED:
            turn.say(
                f"Order {order.id} was already returned and refunded, so it can't be cancelled."
            )
        else:
            shipped = order.shipment
            how = f" with {shipped.carrier} (tracking {shipped.tracking_number})" if shipped else ""
            when = "was delivered" if previous == OrderStatus.DELIVERED else "has already shipped"
            turn.say(
                f"I can't cancel order {order.id}: it {when}{how} on "
                f"{day(order.delivered_at or order.shipped_at)}, and orders can only be "
                "cancelled before they ship. You can return it after delivery instead.",
                buttons=ask_buttons(
                    [("Return policy", f"What is the return policy for order {order.id}?")]
                ),
            )
        return slot_events(order_id=order.id)


class ActionChangeShippingAddress(ShopAction):
    """Change where an order goes, only before it ships."""

    NAME = "action_change_shipping_address"

    def handle(self, turn: Turn) -> EventList:
        """Update the address, ask for it, or explain why it is too late."""
        order = _load_order(turn, "change its shipping address")
        if order is None:
            return []
        events = slot_events(order_id=order.id)
        if order.status not in (OrderStatus.PLACED, OrderStatus.PAID):
            reason = {
                OrderStatus.CANCELLED: "it was cancelled",
                OrderStatus.REFUNDED: "it was delivered and refunded",
                OrderStatus.DELIVERED: f"it was delivered on {day(order.delivered_at)}",
            }.get(OrderStatus(order.status), f"it shipped on {day(order.shipped_at)}")
            extra = ""
            if order.status == OrderStatus.SHIPPED and order.shipment:
                extra = (
                    f" You can ask {order.shipment.carrier} to redirect it with tracking number "
                    f"{order.shipment.tracking_number}."
                )
            turn.say(f"I can't change the address of order {order.id}: {reason}.{extra}")
            return events
        address = (
            turn.entity("address") or turn.slot("shipping_address") or extract_address(turn.text)
        )
        if not address:
            turn.say(
                f"Order {order.id} hasn't shipped yet, so the address can still change. It's "
                f"going to: {order.shipping_address}. What's the new address (street, city, "
                "ZIP)?"
            )
            return events
        old = order.shipping_address
        if not change_shipping_address(turn.session, order, address):
            turn.say(
                f"Order {order.id} shipped a moment ago, so its address can't change any more."
            )
            return events
        turn.say(
            f"Updated: order {order.id} will now ship to {order.shipping_address} (was: {old})."
        )
        return events


class ActionInvoice(ShopAction):
    """Find the invoice of an order."""

    NAME = "action_invoice"

    def handle(self, turn: Turn) -> EventList:
        """Reply with the invoice number, date and amount, or why there is none."""
        invoice_ref = turn.entity("invoice_id") or turn.slot("invoice_id")
        if invoice_ref and not turn.order_id():
            order = find_order_by_invoice(turn.session, invoice_ref)
            if order is None:
                turn.say(
                    f"I couldn't find an invoice numbered {truncate(invoice_ref, 30)}. Invoice "
                    "numbers look like INV-2026-123456; you can also give me the 6-digit order "
                    "number."
                )
                return []
        else:
            order = _load_order(turn, "find its invoice")
        if order is None:
            return []
        invoice = order.invoice
        if invoice is None:
            why = (
                "it was cancelled before payment"
                if order.status == OrderStatus.CANCELLED
                else "it hasn't been paid yet; the invoice is issued with the payment"
            )
            turn.say(f"Order {order.id} has no invoice because {why}.")
        else:
            turn.say(
                f"The invoice for order {order.id} is {invoice.number}, issued on "
                f"{day(invoice.issued_at)} for {money(invoice.amount)} (tax included: "
                f"{money(invoice.tax)}). It was e-mailed to the address on your account; a copy "
                "is in your account under Orders.",
            )
        return slot_events(order_id=order.id)


class ActionRefundStatus(ShopAction):
    """Where the refunds of an order stand."""

    NAME = "action_refund_status"

    def handle(self, turn: Turn) -> EventList:
        """Reply with each refund's amount, status and dates, or how to get one."""
        order = _load_order(turn, "check its refund")
        if order is None:
            return []
        if not order.refunds:
            if order.status == OrderStatus.DELIVERED:
                hint = (
                    "If you want to send it back, I can tell you the return policy for its items."
                )
            elif order.status in (OrderStatus.PLACED, OrderStatus.PAID):
                hint = "It hasn't shipped, so cancelling it would refund it in full."
            else:
                hint = "Once it's delivered you can return it under the products' return policy."
            turn.say(
                f"There is no refund on order {order.id}. {hint}",
                buttons=ask_buttons(
                    [("Return policy", f"What is the return policy for order {order.id}?")]
                ),
            )
            return slot_events(order_id=order.id)
        lines = []
        for refund in order.refunds:
            state = {
                "requested": f"requested on {day(refund.requested_at)}, waiting for the returned item",
                "approved": f"approved on {day(refund.requested_at)}; the money arrives within 5-10 business days",
                "completed": f"completed on {day(refund.completed_at)}",
                "rejected": "rejected; a person from support can explain why",
            }.get(refund.status, refund.status)
            lines.append(
                f"{money(refund.amount)} to your {order.payment_method}: {state} (reason: {refund.reason})"
            )
        turn.say(f"Refunds for order {order.id}:\n" + "\n".join(f"- {ln}" for ln in lines))
        return slot_events(order_id=order.id)
