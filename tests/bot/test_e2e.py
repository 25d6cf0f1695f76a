"""End to end: the real model, the real action server and the bot, as separate processes."""

from __future__ import annotations

import re

import pytest

from bot.store import TranscriptStore
from tests.actions.conftest import order_key
from tests.bot.conftest import LiveStack, texts

pytestmark = pytest.mark.slow


def test_demo_conversation_answers_from_the_shop_database(live_stack: LiveStack) -> None:
    from actions.store import list_orders

    order = list_orders(live_stack.database_url, status="shipped", limit=1)[0]
    sender = "e2e-demo"

    greeting = texts(live_stack.say("hi", sender))
    assert "Hi" in greeting or "Hello" in greeting

    assert "order number" in texts(live_stack.say("where is my order?", sender))
    assert "e-mail address on the order" in texts(live_stack.say(order.id, sender))

    status = texts(live_stack.say(order.email, sender))
    assert f"Order {order.id}" in status and "shipped on" in status

    policy = texts(live_stack.say("can I return it?", sender)).lower()
    assert "return" in policy and "day" in policy

    fallback = live_stack.say("what's the weather in Paris tomorrow?", sender)
    assert fallback[0]["buttons"], fallback
    assert all(b["payload"].startswith("/") for b in fallback[0]["buttons"])

    handoff = texts(live_stack.say("talk to a human", sender))
    assert re.search(r"ticket is [A-Z]+-[0-9A-F]+", handoff), handoff

    turns = TranscriptStore(live_stack.database_url).turns(sender)
    assert [t["seq"] for t in turns] == [1, 2, 3, 4, 5, 6, 7]
    assert turns[3]["action"] == "action_order_status"
    assert turns[3]["text"] == "[EMAIL]" and order.email not in str(turns)
    assert turns[0]["model_version"]
    assert [t["intent"] for t in turns][:2] == ["greet", "track_order"]


def test_live_bot_reports_ready_with_all_checks(live_stack: LiveStack) -> None:
    import httpx

    body = httpx.get(f"{live_stack.bot_url}/ready", timeout=10).json()
    assert body["checks"] == {"model": True, "database": True, "action_server": True}


def test_button_payloads_drive_the_real_actions_without_the_classifier(
    live_stack: LiveStack,
) -> None:
    from actions.store import list_orders

    order = list_orders(live_stack.database_url, status="delivered", limit=1)[0]
    sender = "e2e-buttons"
    assert "order number" in texts(live_stack.say("/track_order", sender))
    assert "e-mail" in texts(live_stack.say(f"#{order.id}", sender))
    delivered = texts(live_stack.say(order.email, sender))
    assert f"Order {order.id}" in delivered and "delivered on" in delivered
    policy = texts(live_stack.say("/check_refund_policy", sender))
    assert f"order {order.id}" in policy and "return policy" in policy
    handoff = texts(live_stack.say("/contact_human_agent", sender))
    assert re.search(r"ticket is [A-Z]+-[0-9A-F]+", handoff), handoff
    turns = TranscriptStore(live_stack.database_url).turns(sender)
    assert [t["action"] for t in turns] == [
        "utter_ask_order_id",
        "utter_ask_order_email",
        "action_order_status",
        "action_return_policy",
        "action_handoff",
    ]
    # `/intent` payloads skip the model; the typed order number went through it.
    assert [t["model_version"] is None for t in turns] == [True, False, False, True, True]


@pytest.mark.parametrize(
    ("intent", "apology"),
    [("report_missing_package", "parcel"), ("complaint", "damaged, faulty")],
)
def test_missing_parcels_and_damaged_items_get_an_apology_and_a_ticket(
    live_stack: LiveStack, intent: str, apology: str
) -> None:
    from sqlalchemy import select

    from actions.models import SupportTicket
    from actions.store import list_orders, session_scope

    order = list_orders(live_stack.database_url, status="delivered", limit=1)[0]
    sender = f"e2e-{intent}"
    # The owner, signed in: the ticket names their order.
    token = live_stack.token(order.customer_id)
    messages = live_stack.say(f'/{intent}{{"order_id": "{order.id}"}}', sender, token)
    reply = texts(messages)
    lowered = reply.lower()
    assert "sorry" in lowered and apology in lowered, reply
    assert "replace" in lowered and "refund" in lowered, reply
    match = re.search(rf"about order {order.id}: your ticket is ([A-Z]+-[0-9A-F]+)", reply)
    assert match, reply
    with session_scope(live_stack.database_url) as session:
        ticket = session.scalars(
            select(SupportTicket).where(SupportTicket.reference == match.group(1))
        ).one()
        assert (ticket.sender_id, ticket.order_id, ticket.intent) == (
            sender,
            order_key(live_stack.database_url, order.id),
            intent,
        )
    turns = TranscriptStore(live_stack.database_url).turns(sender)
    assert turns[0]["actions"] == [f"utter_{intent}", "action_handoff"]
