"""Who is talking: sign-in tokens, issued conversation ids, protected slots, production mode."""

from __future__ import annotations

import json
import time
from typing import Any

import jwt
import pytest
from fastapi.testclient import TestClient

from bot.app import create_app
from bot.errors import InsecureSettingsError, InvalidCustomerTokenError
from bot.identity import ConversationIds, client_ref, issue_customer_token, verify_customer_token
from bot.review.settings import ReviewSettings, get_review_settings
from bot.settings import BotSettings
from bot.store import TranscriptStore
from tests.bot.conftest import (
    GUEST_EMAIL,
    IDENTITY_SECRET,
    AppFactory,
    KeywordClassifier,
    say,
    texts,
)

SECRET = "unit-test-identity-secret-32-characters"


def test_a_valid_token_gives_its_subject() -> None:
    assert verify_customer_token(issue_customer_token("42", SECRET), SECRET) == "42"


@pytest.mark.parametrize(
    ("token", "needle"),
    [
        (jwt.encode({"sub": "42", "exp": int(time.time()) - 120}, SECRET), "expired"),
        (jwt.encode({"sub": "42", "exp": int(time.time()) + 3600}, "other-secret"), "not valid"),
        (jwt.encode({"sub": "42"}, SECRET), "not valid"),  # no exp: never expires, refused
        (jwt.encode({"exp": int(time.time()) + 3600}, SECRET), "not valid"),  # no sub
        (jwt.encode({"sub": 42, "exp": int(time.time()) + 3600}, SECRET), "not valid"),
        (
            jwt.encode({"sub": "42", "exp": int(time.time()) + 3600}, SECRET, algorithm="HS512"),
            "not valid",
        ),
        ("e30.e30.", "not valid"),
        (12, "JWT string"),
        ("", "JWT string"),
    ],
)
def test_bad_tokens_are_refused_with_a_reason(token: Any, needle: str) -> None:
    with pytest.raises(InvalidCustomerTokenError, match=needle):
        verify_customer_token(token, SECRET)


def test_an_unsigned_alg_none_token_is_refused() -> None:
    unsigned = jwt.encode({"sub": "42", "exp": int(time.time()) + 3600}, None, algorithm="none")
    with pytest.raises(InvalidCustomerTokenError):
        verify_customer_token(unsigned, SECRET)


def test_tokens_are_refused_when_sign_in_is_not_configured() -> None:
    with pytest.raises(InvalidCustomerTokenError, match="IDENTITY_SECRET"):
        verify_customer_token(issue_customer_token("42", SECRET), None)


def test_conversation_ids_are_unique_and_cannot_be_edited() -> None:
    ids = ConversationIds(b"k" * 32)
    first, second = ids.issue(), ids.issue()
    assert first != second and ids.valid(first) and ids.valid(second)
    body, _, signature = first.rpartition(".")
    assert not ids.valid(f"{body}x.{signature}")
    assert not ids.valid(f"{second.rpartition('.')[0]}.{signature}")
    assert not ConversationIds(b"other-key" * 4).valid(first)
    assert not ids.valid("alice") and not ids.valid("")


def test_client_ref_is_keyed_and_never_the_address() -> None:
    one = client_ref(b"a" * 32, "203.0.113.9")
    assert one and "203" not in one
    assert one == client_ref(b"a" * 32, "203.0.113.9") != client_ref(b"b" * 32, "203.0.113.9")
    assert client_ref(b"a" * 32, None) is None


def test_the_widget_path_gets_a_session_id_and_chats_with_it(client: TestClient) -> None:
    sender = client.post("/webhooks/rest/session", json={}).json()["sender"]
    response = client.post("/webhooks/rest/webhook", json={"sender": sender, "message": "hi"})
    assert response.status_code == 200
    assert response.json()[0]["recipient_id"] == sender


def test_a_session_request_with_an_expired_token_is_a_401(client: TestClient) -> None:
    expired = issue_customer_token("7", IDENTITY_SECRET, ttl_s=-300)
    response = client.post("/webhooks/rest/session", json={"metadata": {"customer_token": expired}})
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_customer_token"


def _state(client: TestClient, sender: str) -> dict[str, Any]:
    store: TranscriptStore = client.app.state.chat.store  # type: ignore[attr-defined]
    held = store.acquire(sender)
    store.release(held)
    return held.state or {}


def test_protected_slots_cannot_be_set_by_a_direct_intent_or_entity(client: TestClient) -> None:
    forged = {
        "order_id": "1042",
        "customer_id": "7",
        "verified_order_id": "1042",
        "pending_change": "x",
        "order_email": GUEST_EMAIL,
        "client_ref": "x",
    }
    reply = texts(say(client, f"/track_order{json.dumps(forged)}", sender="forger"))
    assert "e-mail address on the order" in reply
    slots = _state(client, "forger")["slots"]
    assert slots["order_id"] == "1042"
    assert all(slots[name] is None for name in forged if name != "order_id")


def test_a_signed_in_shopper_is_not_asked_for_a_number_or_an_email(client: TestClient) -> None:
    token = issue_customer_token("7", IDENTITY_SECRET)
    reply = texts(say(client, "where is my order #1042?", sender="signed", customer_token=token))
    assert "Order 1042 is shipped." in reply
    assert _state(client, "signed")["slots"]["customer_id"] == "7"
    # The next message without the token is a guest again: nothing carries over.
    assert "e-mail" in texts(say(client, "where is my order #1042?", sender="signed"))
    assert _state(client, "signed")["slots"]["customer_id"] is None


def test_the_guest_email_reaches_the_action_but_is_never_stored(client: TestClient) -> None:
    say(client, "where is my order?", sender="guest")
    say(client, "1042", sender="guest")
    assert "Order 1042 is shipped." in texts(say(client, f"it is {GUEST_EMAIL}", sender="guest"))
    store: TranscriptStore = client.app.state.chat.store  # type: ignore[attr-defined]
    stored = json.dumps([store.turns("guest"), _state(client, "guest")], default=str)
    assert GUEST_EMAIL not in stored and "[EMAIL]" in stored
    # Proven once: the next question about the same order is not asked again.
    assert "Order 1042 is shipped." in texts(say(client, "track order 1042", sender="guest"))


def test_production_refuses_to_start_without_its_secrets(bot_settings: BotSettings) -> None:
    settings = bot_settings.model_copy(
        update={"env": "production", "actions_secret": None, "webhook_token": None}
    )
    with pytest.raises(InsecureSettingsError) as caught:
        create_app(settings, classifier=KeywordClassifier())
    message = str(caught.value)
    for name in ("WEBHOOK_TOKEN", "ACTIONS_SECRET", "REVIEW_TOKEN"):
        assert f"SHOPINTENT_{name}" in message
    assert "IDENTITY_SECRET" not in message  # that one is set


def test_production_with_every_secret_starts_without_the_demo_page(
    bot_settings: BotSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHOPINTENT_REVIEW_TOKEN", "r" * 32)
    get_review_settings.cache_clear()
    try:
        assert ReviewSettings().review_token == "r" * 32
        settings = bot_settings.model_copy(update={"env": "production", "actions_secret": "a" * 32})
        with TestClient(create_app(settings, classifier=KeywordClassifier())) as client:
            assert client.get("/").status_code == 404
            assert client.post("/demo/customer-token", json={"customer_id": "1"}).status_code == 404
    finally:
        get_review_settings.cache_clear()


def test_production_refuses_a_short_review_token(
    bot_settings: BotSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHOPINTENT_REVIEW_TOKEN", "short")
    get_review_settings.cache_clear()
    try:
        settings = bot_settings.model_copy(update={"env": "production", "actions_secret": "a" * 32})
        with pytest.raises(InsecureSettingsError, match="at least 32"):
            create_app(settings, classifier=KeywordClassifier())
    finally:
        get_review_settings.cache_clear()


def test_the_demo_page_signs_a_demo_shopper_in_only_in_development(
    make_client: AppFactory,
) -> None:
    with make_client() as client:
        body = client.post("/demo/customer-token", json={"customer_id": "3"}).json()
        assert verify_customer_token(body["token"], IDENTITY_SECRET) == "3"
        assert client.post("/demo/customer-token", json={"customer_id": ""}).status_code == 422
    with make_client(identity_secret=None) as client:
        assert client.post("/demo/customer-token", json={"customer_id": "3"}).status_code == 404
