"""The REST webhook: Rasa's channel shapes, the dialogue over HTTP, bad input, auth, limits."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bot.store import TranscriptStore
from tests.bot.conftest import GUEST_EMAIL, WEBHOOK_TOKEN, AppFactory, say, texts

SERVER = {"Authorization": f"Bearer {WEBHOOK_TOKEN}"}

GREETINGS = {
    "Hi! I'm the shop assistant. I can help with orders, returns, deliveries and finding products.",
    "Hello! How can I help you today?",
}


def stored_turns(client: TestClient, sender: str | None = None) -> list[dict[str, Any]]:
    store: TranscriptStore = client.app.state.chat.store  # type: ignore[attr-defined]
    return store.turns(sender)


def test_demo_conversation_over_the_webhook_answers_each_step(client: TestClient) -> None:
    assert texts(say(client, "hi")) in GREETINGS
    assert "order number" in texts(say(client, "where is my order?"))
    assert "e-mail address on the order" in texts(say(client, "1042"))
    assert "Order 1042 is shipped." in texts(say(client, GUEST_EMAIL))
    assert "Returns within 30 days for order 1042." in texts(say(client, "can I return it?"))
    off_topic = say(client, "what's the weather on mars")
    buttons = off_topic[0]["buttons"]
    assert [b["payload"] for b in buttons] == [
        "/track_order",
        "/product_search",
        "/contact_human_agent",
    ]
    assert "ticket T-" in texts(say(client, "talk to a human"))


def test_off_topic_message_says_what_the_bot_is_for_and_still_suggests(client: TestClient) -> None:
    unsure = say(client, "what's the weather on mars", sender="unsure")
    off_topic = say(client, "/out_of_scope", sender="off-topic")

    assert "outside what I can help with" not in texts(unsure)
    assert "outside what I can help with" in texts(off_topic)
    assert off_topic[0]["buttons"][-1]["payload"] == "/contact_human_agent"


def test_webhook_replies_have_rasa_rest_shape_with_empty_keys_left_out(client: TestClient) -> None:
    messages = say(client, "hi", sender="shape")
    assert messages and all(m["recipient_id"] == "shape" for m in messages)
    assert set(messages[0]) == {"recipient_id", "text"}


def test_product_search_passes_custom_products_to_the_widget(client: TestClient) -> None:
    messages = say(client, "find red shoes")
    assert messages[0]["custom"] == {"products": [{"id": 1, "title": "Red Shoe", "price": 49.5}]}


def test_order_id_given_with_the_question_skips_its_question(client: TestClient) -> None:
    assert "e-mail address on the order" in texts(say(client, "where is my order #2001?"))
    assert "Order 2001 is processing." in texts(say(client, f"it's {GUEST_EMAIL}"))


def test_direct_intent_with_entities_skips_the_classifier(client: TestClient) -> None:
    classifier = client.app.state.chat.model.model  # type: ignore[attr-defined]
    say(client, '/track_order{"order_id": "1042"}')
    assert classifier.seen == []
    assert "Order 1042 is shipped." in texts(say(client, GUEST_EMAIL))
    # The e-mail went to the action server, but the model only saw its placeholder.
    assert classifier.seen == ["[EMAIL]"]


def test_form_rejects_an_invalid_order_number_and_asks_again(client: TestClient) -> None:
    say(client, "where is my order?")
    assert "doesn't look like an order number" in texts(say(client, "yes"))
    assert "e-mail address" in texts(say(client, "it's order 1042"))
    assert "doesn't look like an e-mail address" in texts(say(client, "ann at home"))
    assert "Order 1042 is shipped." in texts(say(client, GUEST_EMAIL))


def test_shopper_can_change_topic_in_the_middle_of_a_form(client: TestClient) -> None:
    say(client, "where is my order?")
    assert "Returns within 30 days." in texts(say(client, "can I return things?"))
    # The form is over: a bare number is no longer taken as an order id.
    assert "order number" not in texts(say(client, "hello"))


def test_deny_in_a_form_cancels_the_form(client: TestClient) -> None:
    say(client, "where is my order?")
    assert "anything else" in texts(say(client, "no"))


def test_slot_events_from_the_action_update_the_tracker(client: TestClient) -> None:
    # The test action answers an unknown order with SlotSet("order_id", None).
    say(client, '/track_order{"order_id": "5555"}')
    assert "can't find order 5555" in texts(say(client, GUEST_EMAIL))
    assert texts(say(client, "/check_refund_policy")) == "Returns within 30 days."
    assert stored_turns(client, "shopper")[1]["actions"] == ["action_order_status"]


def test_two_fallbacks_in_a_row_hand_over_to_a_person(client: TestClient) -> None:
    first = say(client, "blorp zzz")
    assert first[0]["buttons"]
    assert "ticket T-" in texts(say(client, "qwerty asdf"))


def test_a_recognised_message_resets_the_fallback_streak(client: TestClient) -> None:
    say(client, "blorp zzz")
    say(client, "hi")
    assert "buttons" in say(client, "qwerty asdf")[0]


def test_restart_clears_the_conversation(client: TestClient) -> None:
    say(client, '/track_order{"order_id": "1042"}')
    assert "start over" in texts(say(client, "/restart"))
    assert "Returns within 30 days." in texts(say(client, "can I return it?"))


def test_every_turn_is_stored_with_parse_result_and_replies(client: TestClient) -> None:
    say(client, "hi", sender="store")
    say(client, "where is my order?", sender="store")
    turns = stored_turns(client, "store")
    assert [t["seq"] for t in turns] == [1, 2]
    assert turns[1]["intent"] == "track_order"
    assert turns[1]["confidence"] == pytest.approx(0.9)
    assert turns[1]["intent_ranking"][0]["name"] == "track_order"
    assert turns[1]["model_version"] == "keywords-1"
    assert turns[1]["action"] == "utter_ask_order_id"
    assert turns[1]["replies"][0]["text"].startswith("What is your order number?")
    assert turns[1]["latency_ms"] > 0


def test_personal_data_is_redacted_before_storing_and_before_the_action_server(
    client: TestClient,
) -> None:
    reply = texts(
        say(client, "find shoes, mail ann@example.com or call +1 415 555 0100", sender="pii")
    )
    assert "ann@example.com" not in reply and "[EMAIL]" in reply and "[PHONE]" in reply
    turn = stored_turns(client, "pii")[0]
    assert "ann@example.com" not in json.dumps(turn, default=str)
    assert turn["text"] == "find shoes, mail [EMAIL] or call [PHONE]"


@pytest.mark.parametrize(
    ("body", "status", "needle"),
    [
        (b"not json", 400, "JSON body"),
        (b"\xff\xfe", 400, "UTF-8 JSON"),
        (b"[1, 2]", 400, "JSON object"),
        (b"[" * 5000 + b"]" * 5000, 400, "does not parse"),
        (b'{"sender": "u", "message": ' + b"9" * 5000 + b"}", 400, "does not parse"),
        (b"{}", 400, "expected a `sender`"),
        (b'{"message": "hi"}', 400, "expected a `sender`"),
        (b'{"sender": "u"}', 422, "`message` field"),
        (b'{"sender": "u", "message": 42}', 422, "`message` to be a string"),
        (b'{"sender": 7, "message": "hi"}', 422, "`sender` to be a string"),
        (b'{"sender": "u", "message": ""}', 422, "some text"),
        (b'{"sender": "u", "message": "   "}', 422, "some text"),
        (b'{"sender": "u", "message": null}', 422, "`message` to be a string"),
        (b'{"sender": "u", "message": "a\\u0000b"}', 422, "control character U+0000"),
        (b'{"sender": "u", "message": "a\\ud800b"}', 422, "lone UTF-16 surrogate"),
        (b'{"sender": "u\\nv", "message": "hi"}', 422, "control character"),
        (b'{"sender": "u", "message": "hi", "metadata": [1]}', 422, "`metadata`"),
        (json.dumps({"sender": "u", "message": "x" * 1001}).encode(), 422, "at most 1000"),
        (json.dumps({"sender": "s" * 129, "message": "hi"}).encode(), 422, "at most 128"),
    ],
)
def test_bad_input_gets_a_clear_4xx_json_error(
    client: TestClient, body: bytes, status: int, needle: str
) -> None:
    response = client.post(
        "/webhooks/rest/webhook",
        content=body,
        headers={"content-type": "application/json", **SERVER},
    )
    assert response.status_code == status
    assert needle in response.json()["message"]
    assert stored_turns(client) == []


def test_huge_body_is_refused_with_413(client: TestClient) -> None:
    body = json.dumps({"sender": "u", "message": "x" * 20_000})
    response = client.post("/webhooks/rest/webhook", content=body)
    assert response.status_code == 413
    assert response.json()["error"] == "payload_too_large"


@pytest.mark.parametrize(
    "text",
    ["مرحبا، أين طلبي؟", "hi 👋🏽 😀", "‮hi‬", "ｈｉ", "where is my order?\n(the blue one)"],
)
def test_odd_but_valid_unicode_gets_a_normal_answer(client: TestClient, text: str) -> None:
    messages = say(client, text, sender="unicode")
    assert messages and messages[0]["text"]
    assert stored_turns(client, "unicode")[0]["text"] == text


def test_missing_sender_is_a_400_not_a_shared_default_conversation(client: TestClient) -> None:
    for headers in ({}, SERVER):
        response = client.post("/webhooks/rest/webhook", json={"message": "hi"}, headers=headers)
        assert response.status_code == 400
        assert response.json()["error"] == "missing_sender"
    assert stored_turns(client) == []


@pytest.mark.parametrize(
    ("headers", "query", "status", "needle"),
    [
        ({}, "", 401, "/webhooks/rest/session"),
        ({"Authorization": "Bearer wrong"}, "", 401, "Bearer"),
        ({"Authorization": "Bearer s3cret"}, "", 200, ""),
        ({"Authorization": "bearer s3cret"}, "", 200, ""),
        ({}, "?token=s3cret", 200, ""),
        ({}, "?token=nope", 401, "Bearer"),
    ],
)
def test_only_webhook_token_holders_may_name_their_own_sender(
    make_client: AppFactory, headers: dict[str, str], query: str, status: int, needle: str
) -> None:
    with make_client(webhook_token="s3cret") as client:
        response = client.post(
            f"/webhooks/rest/webhook{query}", json={"sender": "a", "message": "hi"}, headers=headers
        )
        assert response.status_code == status
        if status == 401:
            assert needle in response.json()["message"]
            assert stored_turns(client) == []


def test_cors_allows_only_configured_origins(make_client: AppFactory) -> None:
    with make_client(cors_origins=["https://shop.example"]) as client:
        preflight = {"Access-Control-Request-Method": "POST"}
        ok = client.options(
            "/webhooks/rest/webhook", headers={"Origin": "https://shop.example", **preflight}
        )
        assert ok.headers.get("access-control-allow-origin") == "https://shop.example"
        bad = client.options(
            "/webhooks/rest/webhook", headers={"Origin": "https://evil.example", **preflight}
        )
        assert "access-control-allow-origin" not in bad.headers


def test_action_server_down_gives_an_apology_and_keeps_the_turn(make_client: AppFactory) -> None:
    with make_client(action_endpoint="http://127.0.0.1:9/webhook") as client:
        messages = say(client, "find red shoes", sender="down")
        assert "Sorry, I can't look that up right now" in texts(messages)
        turn = stored_turns(client, "down")[0]
        assert turn["action"] == "utter_action_failed"
        assert "could not reach the action server" in turn["error"]
        ready = client.get("/ready")
        assert ready.status_code == 503
        assert ready.json()["checks"] == {"model": True, "database": True, "action_server": False}


def test_slow_action_server_times_out_with_an_apology(make_client: AppFactory) -> None:
    with make_client(action_timeout_s=0.3) as client:
        say(client, '/track_order{"order_id": "999"}', sender="slow")
        messages = say(client, GUEST_EMAIL, sender="slow")
        assert "Sorry, I can't look that up right now" in texts(messages)
        assert "did not answer" in stored_turns(client, "slow")[1]["error"]


def test_failing_action_gives_an_apology(client: TestClient) -> None:
    assert "Sorry, I can't look that up" in texts(say(client, "how can I pay?", sender="crash"))


@pytest.mark.parametrize(
    ("path", "status", "needle"),
    [
        ("/health", 200, '"ok"'),
        ("/webhooks/rest/", 200, '"ok"'),
        ("/ready", 200, '"action_server":true'),
        ("/widget.js", 200, "customer_token"),
        ("/", 200, "widget.js"),
    ],
)
def test_status_and_static_endpoints_answer(
    client: TestClient, path: str, status: int, needle: str
) -> None:
    response = client.get(path)
    assert response.status_code == status
    assert needle in response.text.replace(" ", "")


@pytest.mark.postgres
def test_conversation_on_postgresql_is_stored_in_order(make_client: AppFactory) -> None:
    import uuid

    from sqlalchemy import delete

    from bot.store import Conversation, Turn
    from tests.bot.conftest import PG_URL

    probe = TranscriptStore(PG_URL)
    if not probe.ping():
        pytest.skip("PostgreSQL is not running on 127.0.0.1:5432")
    sender = f"pg-webhook-{uuid.uuid4().hex[:8]}"
    try:
        with make_client(database_url=PG_URL) as client:
            say(client, "hi", sender=sender)
            say(client, "where is my order?", sender=sender)
            say(client, "1042", sender=sender)
            assert "Order 1042 is shipped." in texts(say(client, GUEST_EMAIL, sender=sender))
            turns = stored_turns(client, sender)
            assert [(t["seq"], t["text"]) for t in turns] == [
                (1, "hi"),
                (2, "where is my order?"),
                (3, "1042"),
                (4, "[EMAIL]"),
            ]
            assert turns[3]["entities"] == [] and turns[3]["action"] == "action_order_status"
    finally:
        with probe.engine.begin() as conn:
            conn.execute(delete(Turn).where(Turn.sender_id == sender))
            conn.execute(delete(Conversation).where(Conversation.sender_id == sender))
        probe.dispose()


def test_an_idle_conversation_starts_a_new_session_that_keeps_slots(client: TestClient) -> None:
    say(client, "where is my order?", sender="idle")
    store: TranscriptStore = client.app.state.chat.store  # type: ignore[attr-defined]
    # Age the conversation past the domain's session_expiration_time (60 minutes).
    held = store.acquire("idle")
    assert held.state is not None
    for event in held.state["events"]:
        event["timestamp"] -= 2 * 3600
    store.release(held)
    from sqlalchemy import update

    from bot.store import Conversation

    with store.engine.begin() as conn:
        conn.execute(
            update(Conversation).where(Conversation.sender_id == "idle").values(state=held.state)
        )
    # The order form from two hours ago is over: "yes" is no longer an answer to its question.
    reply = say(client, "yes", sender="idle")
    assert "doesn't look like an order number" not in texts(reply)
    assert reply[0]["buttons"]
    events = store.acquire("idle")
    assert any(e["event"] == "session_started" for e in (events.state or {})["events"])
    store.release(events)


@pytest.mark.parametrize(
    "text",
    ["/fly_to_the_moon", "/", "/track_order{not json}", '/track_order{"order_id": {"a": 1}}'],
)
def test_odd_direct_intents_get_a_normal_answer(client: TestClient, text: str) -> None:
    messages = say(client, text, sender="odd")
    assert messages and messages[0]["text"]
