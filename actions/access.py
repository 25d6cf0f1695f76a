"""Who may see or change an order: the signed-in owner, or a guest who proved it.

The bot puts the verified customer id in the protected slot `customer_id` (no
shopper can set it) and, for a guest, the e-mail typed for this one call in the
transient slot `order_email`. A guest who gives the right order number and e-mail
gets `verified_order_id` for that order, so the next question about it is not
asked again.

A reply to someone who has not proved an order never says whether the number
exists: a wrong number and a wrong e-mail get the same words. Failed attempts are
counted per conversation and per client (a keyed hash of the address); past the
limit, order questions go to a person.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from rasa_sdk.events import FollowupAction, SlotSet

from actions.base import EventList, Turn
from actions.config import get_settings
from actions.lookup_failures import lookup_failures, record_lookup_failure
from actions.models import Order
from actions.orders import email_matches, find_order, orders_of_customer, owned_by
from actions.replies import ask_buttons, day, money, truncate

CONVERSATION_WINDOW = timedelta(days=1)
CLIENT_WINDOW = timedelta(hours=1)
HANDOFF_ACTION = "action_handoff"
ASK_ORDER = (
    "What's your order number? It starts with SI and is in your confirmation e-mail "
    "(for example SI4829301746)."
)


@dataclass
class Access:
    """The outcome of asking for an order: the order when allowed, and slot events.

    Attributes:
        order: The order the caller may see and change, or None (the reply is sent).
        events: Events for the tracker (proof of a guest's order, cleared e-mail, handoff).
    """

    order: Order | None = None
    events: EventList = field(default_factory=list)


def actor(turn: Turn) -> str:
    """Who acts, for the audit table: `customer:<id>` or `guest`."""
    customer = turn.slot("customer_id")
    return f"customer:{customer}" if customer else "guest"


def may_see(turn: Turn, order: Order | None) -> bool:
    """Whether this conversation may see `order` without being asked anything."""
    if order is None:
        return False
    customer = turn.slot("customer_id")
    if customer:
        return owned_by(order, customer)
    verified = turn.slot("verified_order_id")
    return verified is not None and verified.upper() == order.number.upper()


def known_order(turn: Turn) -> Order | None:
    """The mentioned order when the caller may see it, else None; never replies or counts."""
    reference = turn.order_id()
    if not reference:
        return None
    order = find_order(turn.session, reference)
    return order if may_see(turn, order) else None


def _refused(turn: Turn) -> str | None:
    """Why a guest may not look up orders now (too many failures), or None."""
    settings = get_settings()
    conversation = str(turn.tracker.sender_id)
    if (
        lookup_failures(turn.session, "conversation", conversation, CONVERSATION_WINDOW)
        >= settings.max_lookup_failures
    ):
        return "conversation"
    client = turn.slot("client_ref")
    if (
        client
        and lookup_failures(turn.session, "client", client, CLIENT_WINDOW)
        >= settings.max_client_lookup_failures
    ):
        return "client"
    return None


def _to_a_person(turn: Turn) -> Access:
    turn.say(
        "I can't check orders in this chat any more after several numbers and e-mail "
        "addresses that didn't match. I'm passing you to a person from our support team, "
        "who can confirm who you are."
    )
    return Access(events=[SlotSet("order_email", None), FollowupAction(HANDOFF_ACTION)])


def list_own_orders(turn: Turn, purpose: str, verb: str) -> None:
    """Show a signed-in shopper their recent orders, each with a button to `verb` it."""
    customer = turn.slot("customer_id") or ""
    orders = orders_of_customer(turn.session, customer)
    if not orders:
        turn.say("I can't find any orders on your account yet.")
        return
    lines = [
        f"- {o.number}: {o.status}, placed {day(o.placed_at)}, {money(o.total)}" for o in orders
    ]
    turn.say(
        f"Which order should I {purpose}? Your recent orders:\n" + "\n".join(lines),
        buttons=ask_buttons([(o.number, f"{verb} order {o.number}") for o in orders[:5]]),
    )


def load_order(turn: Turn, purpose: str, verb: str = "Track") -> Access:
    """The order the shopper means, if they may see it; otherwise reply for them.

    Args:
        turn: The action call.
        purpose: What the bot will do with it, for the replies ("check where it is").
        verb: The button word for a signed-in shopper's order list ("Cancel").

    Returns:
        The order and the events to return; `order` is None when a reply was sent.
    """
    reference = turn.order_id()
    customer = turn.slot("customer_id")
    if customer:
        if not reference:
            list_own_orders(turn, purpose, verb)
            return Access()
        order = find_order(turn.session, reference)
        if order is None or not owned_by(order, customer):
            turn.say(
                f"I couldn't find order {truncate(reference, 20)} among the orders on your "
                "account. Please check the number, or pick one of your orders.",
            )
            list_own_orders(turn, purpose, verb)
            return Access(events=[SlotSet("order_id", None)])
        return Access(order=order)

    if not reference:
        turn.say(f"{ASK_ORDER} Then I can {purpose}.")
        return Access()
    order = find_order(turn.session, reference)
    if may_see(turn, order):
        return Access(order=order)
    refused = _refused(turn)
    if refused == "conversation":
        return _to_a_person(turn)
    if refused == "client":
        turn.say(
            "There have been too many order numbers that didn't match from this connection. "
            "Please try again in an hour, or ask for a person.",
            buttons=ask_buttons([("Talk to a person", "I want to talk to a person")]),
        )
        return Access(events=[SlotSet("order_email", None)])
    email = turn.slot("order_email")
    if not email:
        turn.say(
            f"To keep orders private, what is the e-mail address on order "
            f"{truncate(reference, 20)}? Then I can {purpose}."
        )
        return Access()
    if order is None or not email_matches(order, email):
        record_lookup_failure(turn.session, "conversation", str(turn.tracker.sender_id))
        client = turn.slot("client_ref")
        if client:
            record_lookup_failure(turn.session, "client", client)
        if _refused(turn) == "conversation":
            return _to_a_person(turn)
        # The same words whether the number exists or not.
        turn.say(
            "I couldn't find an order with that number and e-mail address. Please check both "
            "in your confirmation e-mail and ask again, or ask for a person.",
            buttons=ask_buttons([("Talk to a person", "I want to talk to a person")]),
        )
        return Access(events=[SlotSet("order_email", None), SlotSet("order_id", None)])
    return Access(
        order=order,
        events=[SlotSet("order_email", None), SlotSet("verified_order_id", order.number)],
    )
