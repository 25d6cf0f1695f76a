"""The attacks on orders and conversations, against the real bot and action server.

Each test is an attack that used to work; each now fails for the attacker, and the
shop database is the same afterwards.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from actions.store import list_orders
from core.signing import SIGNATURE_HEADER
from core.signing import sign as signature_for
from tests.actions.conftest import order_snapshot
from tests.bot.conftest import LIVE_ACTIONS_SECRET, LiveStack, texts

pytestmark = pytest.mark.slow

NO_HINT = "couldn't find an order with that number and e-mail address"


def paid_order(stack: LiveStack, index: int = 0) -> Any:
    return list_orders(stack.database_url, status="paid", limit=index + 1)[index]


def another_customers_order(stack: LiveStack, customer_id: str) -> Any:
    orders = list_orders(stack.database_url, status="paid", limit=50)
    return next(o for o in orders if o.customer_id != customer_id)


def test_anonymous_cancel_of_a_strangers_order_changes_nothing(live_stack: LiveStack) -> None:
    order = paid_order(live_stack)
    before = order_snapshot(live_stack.database_url)
    sender = live_stack.session()

    asked = texts(live_stack.browser_say(f"cancel order {order.id}", sender))
    assert "e-mail address on the order" in asked
    refused = texts(live_stack.browser_say("mallory@example.com", sender))

    assert NO_HINT in refused and order.id not in refused.replace(NO_HINT, "")
    assert order_snapshot(live_stack.database_url) == before


def test_a_wrong_email_and_a_made_up_number_get_the_same_reply(live_stack: LiveStack) -> None:
    order = paid_order(live_stack, 1)
    replies = []
    for number in (order.id, "SI0000000001"):
        sender = live_stack.session()
        live_stack.browser_say(f"where is order {number}?", sender)
        replies.append(texts(live_stack.browser_say("nobody@example.com", sender)))
    assert replies[0] == replies[1] and NO_HINT in replies[0]


def test_direct_intent_address_change_asks_for_proof_and_ignores_protected_slots(
    live_stack: LiveStack,
) -> None:
    order = paid_order(live_stack)
    before = order_snapshot(live_stack.database_url)
    sender = live_stack.session()
    payload = {
        "order_id": order.id,
        "address": "1 Mallory Lane, Springfield, IL 62704",
        "customer_id": order.customer_id,
        "verified_order_id": order.id,
        "pending_change": "forged",
    }
    reply = texts(live_stack.browser_say(f"/change_shipping_address{json.dumps(payload)}", sender))
    assert "e-mail address on the order" in reply
    assert "Mallory" not in reply and "confirm" not in reply.lower()
    # The forged `pending_change` never became a slot: "yes" confirms nothing.
    assert "already handled" not in texts(live_stack.browser_say("/affirm", sender))
    assert order_snapshot(live_stack.database_url) == before


def _action_call(order_id: str, customer_id: str) -> bytes:
    body = {
        "next_action": "action_cancel_order",
        "sender_id": "attacker",
        "version": "3.6.21",
        "tracker": {
            "sender_id": "attacker",
            "slots": {"order_id": order_id, "customer_id": customer_id},
            "latest_message": {"text": f"cancel order {order_id}", "intent": {}, "entities": []},
            "events": [],
        },
        "domain": {},
    }
    return json.dumps(body).encode()


@pytest.mark.parametrize("signature", [None, "sha256=" + "0" * 64, "wrong"])
def test_unsigned_or_wrongly_signed_action_calls_get_401(
    live_stack: LiveStack, signature: str | None
) -> None:
    order = paid_order(live_stack)
    before = order_snapshot(live_stack.database_url)
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers[SIGNATURE_HEADER] = signature
    response = httpx.post(
        f"{live_stack.actions_url}/webhook",
        content=_action_call(order.id, order.customer_id),
        headers=headers,
        timeout=10,
    )
    assert response.status_code == 401
    assert order_snapshot(live_stack.database_url) == before


def test_a_signed_action_call_is_served(live_stack: LiveStack) -> None:
    order = paid_order(live_stack)
    before = order_snapshot(live_stack.database_url)
    body = _action_call(order.id, order.customer_id)
    response = httpx.post(
        f"{live_stack.actions_url}/webhook",
        content=body,
        headers={
            "Content-Type": "application/json",
            SIGNATURE_HEADER: signature_for(LIVE_ACTIONS_SECRET, body),
        },
        timeout=10,
    )
    assert response.status_code == 200
    # Even a trusted caller only gets a question: the change waits for a yes.
    assert "Please confirm" in response.json()["responses"][0]["text"]
    assert order_snapshot(live_stack.database_url) == before


def test_a_made_up_or_replayed_plain_sender_id_is_refused(live_stack: LiveStack) -> None:
    order = paid_order(live_stack)
    victim = "alice"
    token = live_stack.token(order.customer_id)
    # The victim's server-side integration used a plain id and saw their order.
    assert order.id in texts(live_stack.say("where is my order?", victim, token))

    for sender in (victim, "c_made-up.0123456789abcdef0123456789abcdef"):
        response = live_stack.browser_post("/track_order", sender)
        assert response.status_code == 401
        assert response.json()["error"] == "invalid_sender"


def test_a_stolen_conversation_id_without_the_token_sees_nothing(live_stack: LiveStack) -> None:
    order = paid_order(live_stack)
    token = live_stack.token(order.customer_id)
    sender = live_stack.session(token)
    assert order.id in texts(live_stack.browser_say("where is my order?", sender, token))

    stolen = texts(live_stack.browser_say(f'/track_order{{"order_id": "{order.id}"}}', sender))
    assert "e-mail address on the order" in stolen and "SI" not in stolen.replace(order.id, "")


def test_missing_sender_is_a_400(live_stack: LiveStack) -> None:
    response = live_stack.browser_post("where is my order?", None)
    assert response.status_code == 400
    assert response.json()["error"] == "missing_sender"


def test_another_customers_token_cannot_read_or_cancel_an_order(live_stack: LiveStack) -> None:
    mine = paid_order(live_stack)
    theirs = another_customers_order(live_stack, mine.customer_id)
    before = order_snapshot(live_stack.database_url)
    token = live_stack.token(mine.customer_id)
    sender = live_stack.session(token)

    status = texts(live_stack.browser_say(f"where is order {theirs.id}?", sender, token))
    assert "among the orders on your account" in status
    assert f"{theirs.total:,.2f}" not in status
    cancel = texts(live_stack.browser_say(f"cancel order {theirs.id}", sender, token))
    assert "Please confirm" not in cancel
    live_stack.browser_say("/affirm", sender, token)
    assert order_snapshot(live_stack.database_url) == before


@pytest.mark.parametrize(
    ("token", "needle"),
    [("not-a-jwt", "not valid"), ("expired", "expired"), ("forged", "not valid")],
)
def test_expired_or_forged_customer_tokens_get_401(
    live_stack: LiveStack, token: str, needle: str
) -> None:
    from bot.identity import issue_customer_token
    from tests.bot.conftest import IDENTITY_SECRET

    value = {
        "not-a-jwt": "not-a-jwt",
        "expired": issue_customer_token("1", IDENTITY_SECRET, ttl_s=-120),
        "forged": issue_customer_token("1", "someone-elses-secret"),
    }[token]
    sender = live_stack.session()
    response = live_stack.browser_post("where is my order?", sender, value)
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_customer_token"
    assert needle in response.json()["message"]


def test_signed_in_shopper_sees_their_orders_and_cancels_after_saying_yes(
    live_stack: LiveStack,
) -> None:
    order = list_orders(live_stack.database_url, status="paid", limit=5)[-1]
    token = live_stack.token(order.customer_id)
    sender = live_stack.session(token)

    status = texts(live_stack.browser_say("where is my order?", sender, token))
    assert order.id in status and "order number?" not in status

    confirm = texts(live_stack.browser_say(f"cancel order {order.id}", sender, token))
    assert "Please confirm" in confirm and f"{order.total:,.2f}" in confirm
    assert any(
        o.id == order.id for o in list_orders(live_stack.database_url, status="paid", limit=500)
    )
    done = texts(live_stack.browser_say("yes", sender, token))
    assert f"order {order.id} is cancelled" in done
    assert any(
        o.id == order.id
        for o in list_orders(live_stack.database_url, status="cancelled", limit=500)
    )


def test_guest_with_the_right_number_and_email_gets_the_status(live_stack: LiveStack) -> None:
    order = list_orders(live_stack.database_url, status="shipped", limit=2)[-1]
    sender = live_stack.session()
    live_stack.browser_say(f"where is my order {order.id}?", sender)
    status = texts(live_stack.browser_say(order.email.upper(), sender))
    assert f"Order {order.id}" in status and "shipped on" in status
