"""Order actions: status and tracking, cancel, change address, invoice, refund status.

Every action acts only on an order the caller may see (`actions.access`): the
signed-in owner's, or a guest's who gave its number and e-mail. Cancelling and
changing the address first show what will happen and wait for an explicit yes
(`action_confirm_change`); each change is written to the audit table.
"""

from __future__ import annotations

import re

from rasa_sdk.events import ActiveLoop, SlotSet

from actions.access import actor, load_order, may_see
from actions.base import EventList, ShopAction, Turn, slot_events
from actions.models import Order, OrderStatus
from actions.order_changes import (
    CANCELLABLE,
    CancelOutcome,
    audit,
    cancel_order,
    change_shipping_address,
    create_pending_change,
    take_pending_change,
)
from actions.orders import GENERIC_ADDRESS, find_order_by_invoice, mask_address, orders_of_customer
from actions.parsing import extract_address
from actions.replies import ask_buttons, day, money, truncate
from privacy import has_placeholder

_YES_NO = [("Yes, go ahead", "/affirm"), ("No, leave it", "/deny")]
_COURTESY_TAIL = re.compile(
    r"(?:[\s,.;!]{0,3}\b(?:please|pls|thanks|thank you|thx|asap|instead|cheers))?[\s,.;!]{0,3}$",
    re.IGNORECASE,
)


def new_address(turn: Turn) -> str | None:
    """The new delivery address the shopper gave, or None.

    The bot redacts street addresses out of the message text, so the address comes
    in the transient slot `new_address` (read from the shopper's own words, sent for
    this call only); a raw text (another Rasa front end, a test) is read as before.
    A redacted text ("[ADDRESS]") is never taken for an address.
    """
    for candidate in (
        turn.slot("new_address"),
        turn.entity("address"),
        turn.slot("shipping_address"),
        extract_address(turn.text),
    ):
        if candidate and not has_placeholder(candidate):
            address = _COURTESY_TAIL.sub("", candidate.strip())
            if address:
                return address
    return None


def _items(order: Order) -> str:
    names = [f"{ln.quantity} × {ln.product.title}" for ln in order.lines]
    return ", ".join(names[:4]) + (f" and {len(names) - 4} more" if len(names) > 4 else "")


def _place(address: str, what: str) -> str:
    """Where an address is, for shoppers: city and postcode only, never the street."""
    masked = mask_address(address)
    return what if masked == GENERIC_ADDRESS else f"{what} in {masked}"


def _summary(order: Order) -> str:
    """ "order SI… (2 × Lamp, $58.00)": what a confirmation shows."""
    return f"order {order.number} ({_items(order)}, {money(order.total)})"


class ActionOrderStatus(ShopAction):
    """Where an order is: status, dates, carrier, tracking number, latest scan."""

    NAME = "action_order_status"

    def handle(self, turn: Turn) -> EventList:
        """Reply with the order's status and tracking; a signed-in shopper's recent orders."""
        if turn.slot("customer_id") and not turn.order_id():
            return self._recent(turn)
        access = load_order(turn, "check where it is")
        order = access.order
        if order is None:
            return access.events
        turn.say(_status_text(order), buttons=ask_buttons(_status_buttons(order)))
        return access.events + slot_events(order_id=order.number)

    def _recent(self, turn: Turn) -> EventList:
        orders = orders_of_customer(turn.session, turn.slot("customer_id") or "", limit=3)
        if not orders:
            turn.say("I can't find any orders on your account yet.")
            return []
        lines = [f"- {_status_text(o)}" for o in orders]
        intro = "Here is your order:" if len(orders) == 1 else "Here are your recent orders:"
        turn.say(
            intro + "\n" + "\n".join(lines),
            buttons=ask_buttons(
                [(f"More on {o.number}", f"Track order {o.number}") for o in orders]
            ),
        )
        return slot_events(order_id=orders[0].number) if len(orders) == 1 else []


def _status_text(order: Order) -> str:
    head = f"Order {order.number} ({_items(order)}, {money(order.total)})"
    status = OrderStatus(order.status)
    shipment = order.shipment
    if status == OrderStatus.PLACED:
        return f"{head} was placed on {day(order.placed_at)} and is waiting for payment."
    if status == OrderStatus.PAID:
        return (
            f"{head} is paid (on {day(order.paid_at)}) and being packed; it will ship by "
            f"{order.shipping_method} delivery."
        )
    if status == OrderStatus.CANCELLED:
        return f"{head} was cancelled on {day(order.cancelled_at)}."
    if status == OrderStatus.REFUNDED:
        return f"{head} was delivered on {day(order.delivered_at)} and has been refunded."
    if shipment is None:
        return f"{head} is {status.value}."
    track = f"{shipment.carrier} tracking number {shipment.tracking_number}"
    if status == OrderStatus.DELIVERED:
        return f"{head} was delivered on {day(order.delivered_at)} ({track})."
    last = shipment.events[-1] if shipment.events else None
    scan = (
        f" Latest scan: {last.description} in {last.location} on {day(last.occurred_at)}."
        if last
        else ""
    )
    return (
        f"{head} shipped on {day(order.shipped_at)} with {track}. Expected "
        f"delivery: {day(shipment.estimated_delivery)}.{scan}"
    )


def _status_buttons(order: Order) -> list[tuple[str, str]]:
    status = OrderStatus(order.status)
    n = order.number
    buttons = []
    if status == OrderStatus.PLACED:
        buttons.append(("Cancel it", f"Cancel order {n}"))
    elif status == OrderStatus.PAID:
        buttons.append(("Change address", f"Change the shipping address of order {n}"))
        buttons.append(("Cancel it", f"Cancel order {n}"))
    elif status == OrderStatus.CANCELLED:
        if order.refunds:
            buttons.append(("Refund status", f"Refund status of order {n}"))
    elif status == OrderStatus.REFUNDED:
        buttons.append(("Refund details", f"Refund status of order {n}"))
    elif status == OrderStatus.DELIVERED:
        buttons.append(("Return it", f"How do I return order {n}?"))
    buttons.append(("Invoice", f"Invoice for order {n}"))
    return buttons


def _not_cancellable(turn: Turn, order: Order) -> None:
    """Say why an order cannot be cancelled (already cancelled, refunded or shipped)."""
    status = OrderStatus(order.status)
    if status == OrderStatus.CANCELLED:
        turn.say(
            f"Order {order.number} is already cancelled (since {day(order.cancelled_at)}); "
            "there is nothing more to do.",
            buttons=ask_buttons([("Refund status", f"Refund status of order {order.number}")]),
        )
    elif status == OrderStatus.REFUNDED:
        turn.say(
            f"Order {order.number} was already returned and refunded, so it can't be cancelled."
        )
    else:
        shipped = order.shipment
        how = f" with {shipped.carrier} (tracking {shipped.tracking_number})" if shipped else ""
        when = "was delivered" if status == OrderStatus.DELIVERED else "has already shipped"
        turn.say(
            f"I can't cancel order {order.number}: it {when}{how} on "
            f"{day(order.delivered_at or order.shipped_at)}, and orders can only be "
            "cancelled before they ship. You can return it after delivery instead.",
            buttons=ask_buttons(
                [("Return policy", f"What is the return policy for order {order.number}?")]
            ),
        )


class ActionCancelOrder(ShopAction):
    """Offer to cancel an order that has not shipped (the yes carries it out); else say why not."""

    NAME = "action_cancel_order"

    def handle(self, turn: Turn) -> EventList:
        """Ask to confirm the cancellation, or say why the order cannot be cancelled."""
        access = load_order(turn, "cancel it", verb="Cancel")
        order = access.order
        if order is None:
            return access.events
        events = access.events + slot_events(order_id=order.number)
        if order.status not in CANCELLABLE:
            _not_cancellable(turn, order)
            return events
        token = create_pending_change(
            turn.session,
            order,
            kind="cancel",
            actor=actor(turn),
            conversation=str(turn.tracker.sender_id),
        )
        money_back = (
            f" Your payment of {money(order.total)} would be refunded to your "
            f"{order.payment_method}."
            if order.paid_at is not None
            else " You haven't been charged."
        )
        turn.say(
            f"Please confirm: cancel {_summary(order)}?{money_back} Nothing changes until "
            "you say yes.",
            buttons=ask_buttons(_YES_NO),
        )
        return [*events, SlotSet("pending_change", token)]


class ActionChangeShippingAddress(ShopAction):
    """Offer to change where an order goes, only before it ships (the yes carries it out)."""

    NAME = "action_change_shipping_address"

    def handle(self, turn: Turn) -> EventList:
        """Ask for the new address, ask to confirm it, or explain why it is too late."""
        access = load_order(turn, "change its shipping address", verb="Change the address of")
        order = access.order
        if order is None:
            return access.events
        events = access.events + slot_events(order_id=order.number)
        if order.status not in CANCELLABLE:
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
            turn.say(f"I can't change the address of order {order.number}: {reason}.{extra}")
            # Too late: the bot's address form stops asking for the new address.
            return [*events, ActiveLoop(None)]
        address = new_address(turn)
        if not address:
            turn.say(
                f"Order {order.number} hasn't shipped yet, so the address can still change. It's "
                f"going to {mask_address(order.shipping_address)}. What's the new address "
                "(street, city, ZIP)?"
            )
            return events
        token = create_pending_change(
            turn.session,
            order,
            kind="change_address",
            actor=actor(turn),
            conversation=str(turn.tracker.sender_id),
            new_address=address.strip()[:500],
        )
        turn.say(
            f"Please confirm: ship {_summary(order)} to {_place(address, 'the new address')} "
            f"instead of {_place(order.shipping_address, 'the current address')}? Nothing "
            "changes until you say yes.",
            buttons=ask_buttons(_YES_NO),
        )
        return [*events, SlotSet("pending_change", token), SlotSet("shipping_address", None)]


class ActionConfirmChange(ShopAction):
    """Carry out the change the shopper just confirmed, and write it to the audit table."""

    NAME = "action_confirm_change"

    def handle(self, turn: Turn) -> EventList:
        """Cancel the order or change its address, as the pending change says."""
        events: EventList = [SlotSet("pending_change", None)]
        conversation = str(turn.tracker.sender_id)
        pending = take_pending_change(turn.session, turn.slot("pending_change"), conversation)
        if pending is None or pending.actor != actor(turn):
            turn.say(
                "That request has expired or was already handled, so nothing was changed. "
                "Ask again if you still want it."
            )
            return events
        order = turn.session.get(Order, pending.order_id)
        if order is None or not may_see(turn, order):
            turn.say("Nothing was changed: I can't find that order on your side any more.")
            return events
        before = order.status
        if pending.kind == "cancel":
            result = cancel_order(turn.session, order)
            if result.outcome != CancelOutcome.CANCELLED:
                _not_cancellable(turn, order)
                return events
            audit(
                turn.session,
                order,
                action="cancel",
                actor=pending.actor,
                conversation=conversation,
                details={
                    "status_before": before,
                    "status_after": order.status,
                    "refund": result.refund_amount,
                },
            )
            refund = (
                f" Your payment of {money(result.refund_amount)} will be refunded to your "
                f"{order.payment_method} within 5-10 business days."
                if result.refund_amount is not None
                else " You haven't been charged."
            )
            turn.say(f"Done: order {order.number} is cancelled.{refund}")
            return events
        old = mask_address(order.shipping_address)
        if not change_shipping_address(turn.session, order, pending.new_address or ""):
            turn.say(
                f"Order {order.number} shipped a moment ago, so its address can't change any more."
            )
            return events
        audit(
            turn.session,
            order,
            action="change_address",
            actor=pending.actor,
            conversation=conversation,
            details={"from": old, "to": mask_address(order.shipping_address)},
        )
        turn.say(
            f"Updated: order {order.number} will now ship to "
            f"{_place(order.shipping_address, 'the new address')} (was: {old})."
        )
        return events


class ActionDiscardChange(ShopAction):
    """The shopper said no: drop the pending change."""

    NAME = "action_discard_change"

    def handle(self, turn: Turn) -> EventList:
        """Forget the pending change and say nothing was changed."""
        pending = take_pending_change(
            turn.session, turn.slot("pending_change"), str(turn.tracker.sender_id)
        )
        order = turn.session.get(Order, pending.order_id) if pending is not None else None
        what = f"order {order.number}" if order is not None else "your order"
        turn.say(f"OK, I haven't changed anything: {what} stays as it is.")
        return [SlotSet("pending_change", None)]


class ActionInvoice(ShopAction):
    """Find the invoice of an order."""

    NAME = "action_invoice"

    def handle(self, turn: Turn) -> EventList:
        """Reply with the invoice number, date and amount, or why there is none."""
        invoice_ref = turn.entity("invoice_id") or turn.slot("invoice_id")
        events: EventList = []
        order: Order | None
        if invoice_ref and not turn.order_id():
            order = find_order_by_invoice(turn.session, invoice_ref)
            if order is None or not may_see(turn, order):
                turn.say(
                    f"I couldn't find an invoice numbered {truncate(invoice_ref, 30)} that I can "
                    "show you. Give me your order number (it starts with SI) and I'll look it up."
                )
                return []
        else:
            access = load_order(turn, "find its invoice", verb="Invoice for")
            order, events = access.order, access.events
        if order is None:
            return events
        invoice = order.invoice
        if invoice is None:
            why = (
                "it was cancelled before payment"
                if order.status == OrderStatus.CANCELLED
                else "it hasn't been paid yet; the invoice is issued with the payment"
            )
            turn.say(f"Order {order.number} has no invoice because {why}.")
        else:
            turn.say(
                f"The invoice for order {order.number} is {invoice.number}, issued on "
                f"{day(invoice.issued_at)} for {money(invoice.amount)} (tax included: "
                f"{money(invoice.tax)}). It was e-mailed to the address on your account; a copy "
                "is in your account under Orders.",
            )
        return events + slot_events(order_id=order.number)


class ActionRefundStatus(ShopAction):
    """Where the refunds of an order stand."""

    NAME = "action_refund_status"

    def handle(self, turn: Turn) -> EventList:
        """Reply with each refund's amount, status and dates, or how to get one."""
        access = load_order(turn, "check its refund", verb="Refund status of")
        order = access.order
        if order is None:
            return access.events
        events = access.events + slot_events(order_id=order.number)
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
                f"There is no refund on order {order.number}. {hint}",
                buttons=ask_buttons(
                    [("Return policy", f"What is the return policy for order {order.number}?")]
                ),
            )
            return events
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
        turn.say(f"Refunds for order {order.number}:\n" + "\n".join(f"- {ln}" for ln in lines))
        return events
