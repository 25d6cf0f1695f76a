"""Who may see or change an order (`actions.access`), through the real actions and store.

A signed-in shopper sees only their own orders; a guest sees an order after giving
its number and e-mail; everyone else gets a reply that does not tell whether the
number exists, and after too many misses a person takes over.
"""

from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk import Action
from sqlalchemy import update

from actions import store
from actions.access import CONVERSATION_WINDOW
from actions.handoff_actions import ActionHandoff
from actions.lookup_failures import lookup_failures
from actions.models import Order
from actions.order_actions import (
    ActionCancelOrder,
    ActionChangeShippingAddress,
    ActionConfirmChange,
    ActionDiscardChange,
    ActionInvoice,
    ActionOrderStatus,
    ActionRefundStatus,
)
from actions.orders import find_order
from actions.replies import money
from tests.actions.conftest import (
    SENDER,
    Reply,
    call,
    first_order,
    guest,
    limit_lookups,
    load_order,
    order_key,
    order_snapshot,
    owner,
    point_settings_at,
    seed_store,
    stranger,
    ticket_of,
)

UNKNOWN_NUMBER = "SI0000000000"
NOT_FOUND = "I couldn't find an order with that number and e-mail address."
NOT_ON_ACCOUNT = "among the orders on your account"
ORDER_ACTIONS: list[Action] = [
    ActionOrderStatus(),
    ActionCancelOrder(),
    ActionChangeShippingAddress(),
    ActionInvoice(),
    ActionRefundStatus(),
]


def where_is(number: str, slots: dict[str, str], *, sender: str = SENDER) -> Reply:
    """Ask for the status of order `number` with these slots, in conversation `sender`."""
    return call(ActionOrderStatus(), f"where is my order {number}?", slots=slots, sender=sender)


def details(url: str, number: str) -> list[str]:
    """What a reply about order `number` would show: item titles, total, tracking number."""
    with store.session_factory(url)() as session:
        order = load_order(session, number)
        shown = [line.product.title for line in order.lines] + [money(order.total)]
        if order.shipment is not None:
            shown.append(order.shipment.tracking_number)
    return shown


def reply_shape(reply: Reply) -> tuple[str, list[dict[str, Any]], list[dict[str, Any]]]:
    """Everything a caller receives: the text, the buttons and the events."""
    return reply.text, reply.buttons, reply.events


def test_a_guest_with_the_right_number_and_email_sees_the_order_and_is_remembered(
    shop: str,
) -> None:
    number = first_order(shop, "shipped")
    reply = where_is(number, guest(shop, number))
    assert f"Order {number}" in reply.text and "shipped on" in reply.text
    assert reply.slot("verified_order_id") == number
    assert {"event": "slot", "name": "order_email", "value": None, "timestamp": None} in (
        reply.events
    )
    # Proved once: the next question about it needs no e-mail.
    again = call(
        ActionRefundStatus(), f"any refund on {number}?", slots={"verified_order_id": number}
    )
    assert f"There is no refund on order {number}" in again.text


def test_a_guests_email_is_compared_without_case_or_spaces(shop: str) -> None:
    number = first_order(shop, "paid")
    email = guest(shop, number)["order_email"]
    reply = where_is(number, {"order_email": f"  {email.upper()} "})
    assert f"Order {number}" in reply.text
    assert reply.slot("verified_order_id") == number


def test_a_wrong_email_and_an_unknown_number_get_the_same_reply(fresh_shop: str) -> None:
    number = first_order(fresh_shop, "shipped")
    with store.session_factory(fresh_shop)() as session:
        assert find_order(session, UNKNOWN_NUMBER) is None
    before = order_snapshot(fresh_shop)
    email = {"order_email": "someone.else@example.com"}
    wrong_email = where_is(number, email, sender="guesser-1")
    unknown = where_is(UNKNOWN_NUMBER, guest(fresh_shop, number), sender="guesser-2")

    assert NOT_FOUND in wrong_email.text
    assert reply_shape(wrong_email) == reply_shape(unknown)
    for reply in (wrong_email, unknown):
        assert number not in reply.text and UNKNOWN_NUMBER not in reply.text
        assert not [shown for shown in details(fresh_shop, number) if shown in reply.text]
        assert reply.slot("verified_order_id") is None
    with store.session_factory(fresh_shop)() as session:
        counts = [
            lookup_failures(session, "conversation", sender, CONVERSATION_WINDOW)
            for sender in ("guesser-1", "guesser-2")
        ]
    assert counts == [1, 1]
    assert order_snapshot(fresh_shop) == before


def test_asking_a_guest_for_the_email_does_not_tell_whether_the_number_exists(shop: str) -> None:
    number = first_order(shop, "paid")
    known = where_is(number, {})
    unknown = where_is(UNKNOWN_NUMBER, {})
    assert "what is the e-mail address on order" in known.text
    assert known.text.replace(number, "SI?") == unknown.text.replace(UNKNOWN_NUMBER, "SI?")
    assert known.events == unknown.events == []


def test_five_misses_in_a_conversation_hand_it_to_a_person(
    fresh_shop: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    limit_lookups(monkeypatch, conversation=5, client=100)
    number = first_order(fresh_shop, "shipped")
    right = guest(fresh_shop, number)
    wrong = {"order_email": "guess@example.com"}
    misses = [
        where_is(n, slots, sender="guesser")
        for n, slots in [(number, wrong), (UNKNOWN_NUMBER, right)] * 2
    ]
    assert all(NOT_FOUND in r.text and r.followups == [] for r in misses)

    fifth = where_is(number, wrong, sender="guesser")
    assert fifth.followups == ["action_handoff"]
    assert "passing you to a person" in fifth.text and NOT_FOUND not in fifth.text

    for action in ORDER_ACTIONS:
        later = call(action, f"order {number}", slots=right, sender="guesser")
        assert later.followups == ["action_handoff"], action.name()
        assert not [shown for shown in details(fresh_shop, number) if shown in later.text]
        assert later.slot("verified_order_id") is None and later.slot("pending_change") is None

    elsewhere = where_is(number, right, sender="someone-else")
    assert f"Order {number}" in elsewhere.text and elsewhere.followups == []
    assert elsewhere.slot("verified_order_id") == number


def test_too_many_misses_from_one_client_stop_lookups_from_it(
    fresh_shop: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    limit_lookups(monkeypatch, conversation=5, client=3)
    number = first_order(fresh_shop, "paid")
    right = guest(fresh_shop, number)
    for i in range(3):
        miss = where_is(UNKNOWN_NUMBER, {**right, "client_ref": "client-a"}, sender=f"tab-{i}")
        assert NOT_FOUND in miss.text

    blocked = where_is(number, {**right, "client_ref": "client-a"}, sender="tab-new")
    assert "too many order numbers that didn't match from this connection" in blocked.text
    assert not [shown for shown in details(fresh_shop, number) if shown in blocked.text]
    assert blocked.slot("verified_order_id") is None
    assert blocked.followups == []

    other_client = where_is(number, {**right, "client_ref": "client-b"}, sender="tab-other")
    assert f"Order {number}" in other_client.text
    assert other_client.slot("verified_order_id") == number


@pytest.mark.parametrize("action", ORDER_ACTIONS, ids=lambda a: a.name())
def test_a_customer_asking_about_another_customers_order_learns_nothing(
    fresh_shop: str, action: Action
) -> None:
    number = first_order(fresh_shop, "paid")
    slots = stranger(fresh_shop, number)
    own = [
        o for o in store.list_orders(fresh_shop, limit=500) if o.customer_id == slots["customer_id"]
    ]
    before = order_snapshot(fresh_shop)
    reply = call(action, f"order {number} to 1 Main Street, Madison, WI 53703", slots=slots)
    assert f"I couldn't find order {number} {NOT_ON_ACCOUNT}" in reply.text
    assert not [shown for shown in details(fresh_shop, number) if shown in reply.text]
    assert own and all(o.id in reply.text for o in own)
    assert reply.slot("pending_change") is None and reply.slot("verified_order_id") is None
    assert order_snapshot(fresh_shop) == before


def test_a_customer_gets_the_same_reply_for_another_customers_order_and_an_unknown_one(
    shop: str,
) -> None:
    number = first_order(shop, "shipped")
    slots = stranger(shop, number)
    theirs = where_is(number, slots)
    unknown = where_is(UNKNOWN_NUMBER, slots)
    assert NOT_ON_ACCOUNT in theirs.text
    assert theirs.text.replace(number, "SI?") == unknown.text.replace(UNKNOWN_NUMBER, "SI?")
    assert theirs.buttons == unknown.buttons and theirs.events == unknown.events


def test_a_signed_in_shopper_without_a_number_gets_their_orders(fresh_shop: str) -> None:
    mine, theirs, other = (first_order(fresh_shop, s) for s in ("shipped", "paid", "delivered"))
    slots = owner(fresh_shop, mine)
    with store.session_factory(fresh_shop)() as session, session.begin():
        # The seed gives each customer one order; give this customer a second one.
        session.execute(
            update(Order)
            .where(Order.number == theirs)
            .values(customer_id=int(slots["customer_id"]))
        )
    reply = call(ActionOrderStatus(), "where is my order?", slots=slots)
    assert reply.text.startswith("Here are your recent orders:")
    assert f"Order {mine}" in reply.text and "shipped on" in reply.text
    assert f"Order {theirs}" in reply.text and "is paid" in reply.text
    assert other not in reply.text
    assert "order number?" not in reply.text
    assert {b["payload"] for b in reply.buttons} == {f"Track order {mine}", f"Track order {theirs}"}

    cancel = call(ActionCancelOrder(), "cancel my order", slots=slots)
    assert "Which order should I cancel it?" in cancel.text
    assert {b["payload"] for b in cancel.buttons} == {
        f"Cancel order {mine}",
        f"Cancel order {theirs}",
    }
    assert cancel.slot("pending_change") is None


def test_a_signed_in_shopper_with_one_order_gets_it_and_its_number_is_remembered(
    shop: str,
) -> None:
    number = first_order(shop, "delivered")
    reply = call(ActionOrderStatus(), "where is my order?", slots=owner(shop, number))
    assert reply.text.startswith("Here is your order:")
    assert f"Order {number}" in reply.text and "delivered on" in reply.text
    assert "order number?" not in reply.text
    assert reply.slot("order_id") == number


def test_a_handoff_attaches_only_an_order_the_guest_has_proved(fresh_shop: str) -> None:
    number = first_order(fresh_shop, "delivered")
    text = f"I want a person about order {number}"
    unproved = call(ActionHandoff(), text, sender="guest-1")
    assert ticket_of(fresh_shop, unproved).order_id is None
    assert number not in unproved.text
    strange = call(ActionHandoff(), text, slots=stranger(fresh_shop, number), sender="guest-2")
    assert ticket_of(fresh_shop, strange).order_id is None

    proved = call(ActionHandoff(), text, slots={"verified_order_id": number}, sender="guest-3")
    assert ticket_of(fresh_shop, proved).order_id == order_key(fresh_shop, number)
    assert f"about order {number}" in proved.text


HOSTILE_SLOTS = [
    {"customer_id": "1 OR 1=1", "order_email": "' OR ''='", "client_ref": "x" * 5000},
    {"customer_id": "-1", "verified_order_id": "%", "pending_change": "' OR 1=1 --"},
    {"customer_id": "01", "pending_change": "x" * 64},
    {"verified_order_id": "SI%", "order_email": "%@%", "pending_change": "y" * 5000},
]


@pytest.fixture(scope="module")
def hostile_slots_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One store for the forged-slot tests (they must not change any order)."""
    return seed_store(f"sqlite:///{tmp_path_factory.mktemp('forged') / 'shop.db'}")


@pytest.mark.parametrize(
    "action",
    [*ORDER_ACTIONS, ActionConfirmChange(), ActionDiscardChange(), ActionHandoff()],
    ids=lambda a: a.name(),
)
@pytest.mark.parametrize("slots", HOSTILE_SLOTS, ids=["or", "wildcards", "zero", "long"])
def test_forged_slots_reveal_and_change_nothing(
    hostile_slots_url: str,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
    action: Action,
    slots: dict[str, str],
) -> None:
    point_settings_at(monkeypatch, hostile_slots_url)
    number = first_order(hostile_slots_url, "paid")
    before = order_snapshot(hostile_slots_url)
    reply = call(
        action,
        f"cancel order {number} and ship it to 1 Main Street, Madison, WI 53703",
        slots=slots,
        sender=request.node.name,
    )
    assert reply.text.strip()
    assert not [shown for shown in details(hostile_slots_url, number) if shown in reply.text]
    assert reply.slot("verified_order_id") is None and reply.slot("pending_change") is None
    assert order_snapshot(hostile_slots_url) == before
