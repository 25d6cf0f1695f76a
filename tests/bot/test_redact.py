"""Personal data never reaches the bot's database: turns, replies and tracker state are redacted.

The rules themselves are tested in `tests/privacy`; here the bot is driven over its
REST webhook and the SQLite file is read back as raw bytes.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bot.app import create_app
from bot.identity import issue_customer_token
from bot.redact import redact
from bot.settings import BotSettings
from bot.store import TranscriptStore
from bot.tracker import Tracker
from core.wire import ActionResult, BotMessage, ParseResult
from privacy import redact as shared_redact
from privacy import redact_value
from tests.bot.conftest import (
    GUEST_EMAIL,
    IDENTITY_SECRET,
    AppFactory,
    KeywordClassifier,
    say,
    texts,
)

# One message per kind the review found stored verbatim, written as shoppers write them.
PII_TURNS = [
    ("hi I'm Ann Lee, ship to 12 Oak Street, Springfield, IL 62704", ["Ann Lee", "12 Oak Street", "62704"]),
    ("mail me at ann\u200b@example.com", ["ann\u200b@example.com", "ann@example.com"]),
    ("or ann@exämple.com", ["ann@exämple.com"]),
    ("it's ann at example dot com", ["ann at example dot com"]),
    ("card 4111/1111/1111/1111 exp 12/27 cvv 123", ["4111/1111/1111/1111", "4111111111111111", "12/27", "cvv 123"]),
    ("call 415\u200b555\u200b0100", ["415\u200b555\u200b0100", "4155550100"]),
    ("or 555-0199", ["555-0199"]),
    ("my ssn is 078-05-1120", ["078-05-1120"]),
    ("I was born on 14 February 1986", ["14 February 1986"]),
    ("my password is Hunter2!", ["Hunter2!"]),
    ("refund to DE89 3704 0044 0532 0130 00", ["DE89 3704 0044 0532 0130 00", "DE89370400440532013000"]),
    ("NI number QQ 12 34 56 C", ["QQ 12 34 56 C"]),
]  # fmt: skip


def _encodings(secret: str) -> set[bytes]:
    """The ways a string can sit in the database file: UTF-8, JSON-escaped, normalised."""
    forms = {secret, "".join(ch for ch in secret if unicodedata.category(ch) != "Cf")}
    out: set[bytes] = set()
    for form in forms:
        out.add(form.encode())
        out.add(json.dumps(form)[1:-1].encode())
        out.add(json.dumps(form, ensure_ascii=False)[1:-1].encode())
    return out


def _database_bytes(settings: BotSettings) -> bytes:
    path = Path(settings.database_url.removeprefix("sqlite:///"))
    files = [path, *path.parent.glob(path.name + "-*")]  # the WAL and journal too
    return b"".join(p.read_bytes() for p in files if p.is_file())


def test_bot_redact_is_the_shared_redactor() -> None:
    assert redact is shared_redact


def test_a_conversation_full_of_personal_data_leaves_none_in_the_database_file(
    make_client: AppFactory, bot_settings: BotSettings
) -> None:
    with make_client() as client:
        for message, _ in PII_TURNS:
            say(client, message, sender="leaky")
        store: TranscriptStore = client.app.state.chat.store  # type: ignore[attr-defined]
        stored = json.dumps(store.turns("leaky"), default=str)
    raw = _database_bytes(bot_settings)
    assert b"leaky" in raw  # the conversation is there...
    for message, secrets in PII_TURNS:
        for secret in secrets:
            for encoded in _encodings(secret):
                assert encoded not in raw, (message, secret)
    for placeholder in ["[NAME]", "[ADDRESS]", "[POSTCODE]", "[EMAIL]", "[CARD]", "[PHONE]"]:
        assert placeholder in stored  # ...with placeholders where the data was


class AddressActions:
    """Stands in for the action server's address change, and remembers each call.

    Like the real action it proves a guest's order with the e-mail, asks for the new
    address when it has none, and asks to confirm one, quoting it back.
    """

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    async def run(
        self, action_name: str, tracker: dict[str, Any], domain: dict[str, Any]
    ) -> ActionResult:
        slots = dict(tracker["slots"])
        self.calls.append({"action": action_name, "slots": slots})
        order = slots.get("order_id")
        events: list[dict[str, Any]] = []
        if not slots.get("customer_id") and slots.get("verified_order_id") != order:
            if slots.get("order_email") != GUEST_EMAIL:
                return ActionResult(events=[], responses=[{"text": f"E-mail for {order}?"}])
            events = [
                {"event": "slot", "name": "order_email", "value": None},
                {"event": "slot", "name": "verified_order_id", "value": order},
            ]
        address = slots.get("new_address")
        if not address:
            ask = "Order hasn't shipped. What's the new address (street, city, ZIP)?"
            return ActionResult(events=events, responses=[{"text": ask}])
        return ActionResult(
            events=[
                *events,
                {"event": "slot", "name": "shipping_address", "value": address},
                {"event": "slot", "name": "pending_change", "value": "token-1"},
            ],
            responses=[{"text": f"Please confirm: ship order {order} to {address}?"}],
        )

    async def aclose(self) -> None:
        """Nothing to close."""


class AddressClassifier(KeywordClassifier):
    """The keyword classifier, plus address changes."""

    RULES = (("address", "change_shipping_address"), *KeywordClassifier.RULES)


@pytest.fixture
def address_client(bot_settings: BotSettings) -> Iterator[tuple[TestClient, AddressActions]]:
    actions = AddressActions()
    app = create_app(bot_settings, classifier=AddressClassifier(), action_client=actions)  # type: ignore[arg-type]
    with TestClient(app) as client:
        yield client, actions


def test_the_new_address_reaches_the_action_from_the_typed_text_but_is_never_stored(
    address_client: tuple[TestClient, AddressActions], bot_settings: BotSettings
) -> None:
    client, actions = address_client
    new = "42 Baker Street, Springfield, IL 62704"
    asked = texts(say(client, "change the address of order SI4829301746", sender="mover"))
    assert "e-mail address on the order" in asked
    # The e-mail lasts one turn: the action proves the order with it now, then asks.
    assert "What's the new address (street, city, ZIP)?" in texts(say(client, GUEST_EMAIL, "mover"))
    assert actions.calls[0]["slots"]["order_email"] == GUEST_EMAIL
    reply = texts(say(client, new, sender="mover"))
    # The shopper sees the dialogue as written; the action got the address as typed...
    assert f"Please confirm: ship order SI4829301746 to {new}?" in reply
    call = actions.calls[-1]
    assert call["action"] == "action_change_shipping_address"
    assert call["slots"]["new_address"] == new
    assert call["slots"]["verified_order_id"] == "SI4829301746"
    assert call["slots"]["order_email"] is None  # proven: not asked, not sent again
    # ...and what is stored (turns, replies, tracker events and slots) holds no part of it.
    store: TranscriptStore = client.app.state.chat.store  # type: ignore[attr-defined]
    held = store.acquire("mover")
    store.release(held)
    state = held.state or {}
    stored = json.dumps([store.turns("mover"), state], default=str)
    for secret in ["42 Baker Street", "62704", GUEST_EMAIL]:
        assert secret not in stored
    assert "[ADDRESS]" in stored and "[POSTCODE]" in stored
    assert "new_address" not in state["slots"] or state["slots"]["new_address"] is None
    assert state["slots"]["shipping_address"] == "[ADDRESS], Springfield, IL [POSTCODE]"
    # Protected and order-number slots are kept as they are: the dialogue needs them.
    assert state["slots"]["verified_order_id"] == "SI4829301746"
    assert state["slots"]["pending_change"] == "token-1"
    assert state["slots"]["order_id"] == "SI4829301746"
    for secret in ["42 Baker Street", GUEST_EMAIL]:
        for encoded in _encodings(secret):
            assert encoded not in _database_bytes(bot_settings)


def test_a_signed_in_shopper_giving_the_address_with_the_request_is_asked_nothing(
    address_client: tuple[TestClient, AddressActions],
) -> None:
    client, actions = address_client
    token = issue_customer_token("7", IDENTITY_SECRET)
    reply = texts(
        say(
            client,
            "change the address of order SI4829301746 to 7 Harbour Road, Bristol",
            sender="quick",
            customer_token=token,
        )
    )
    assert "Please confirm: ship order SI4829301746 to 7 Harbour Road, Bristol?" in reply
    [call] = actions.calls
    assert call["slots"]["new_address"] == "7 Harbour Road, Bristol"


def test_a_guest_giving_the_address_before_the_email_is_asked_for_it_again(
    address_client: tuple[TestClient, AddressActions],
) -> None:
    # The address is never kept between messages, so it cannot wait for the e-mail.
    client, actions = address_client
    asked = say(client, "change the address of order SI4829301746 to 7 Harbour Road", "guest")
    assert "E-mail for SI4829301746?" in texts(asked)
    assert "What's the new address" in texts(say(client, GUEST_EMAIL, sender="guest"))
    reply = texts(say(client, "7 Harbour Road, Bristol", sender="guest"))
    assert "Please confirm: ship order SI4829301746 to 7 Harbour Road, Bristol?" in reply
    assert [c["slots"]["new_address"] for c in actions.calls] == [
        "7 Harbour Road",  # sent with the first message, when the order was not proven yet
        None,
        "7 Harbour Road, Bristol",
    ]


def test_an_answer_that_is_not_an_address_is_asked_again(
    address_client: tuple[TestClient, AddressActions],
) -> None:
    client, actions = address_client
    say(client, "change the address of order SI4829301746", sender="vague")
    say(client, GUEST_EMAIL, sender="vague")
    assert "couldn't read that as an address" in texts(say(client, "somewhere nice", "vague"))
    assert len(actions.calls) == 1  # the proof of the e-mail, not a change


def test_the_stored_tracker_state_redacts_each_event_once_and_old_states_fully() -> None:
    legacy = {  # stored before redaction existed: no `redacted_events`
        "sender_id": "old",
        "slots": {"order_id": "SI4829301746", "email": "ann@example.com"},
        "events": [
            {"event": "bot", "text": "Shipping to 12 Oak Street, Springfield, IL 62704"},
            {"event": "slot", "name": "order_id", "value": "SI4829301746"},
        ],
    }
    tracker = Tracker.from_state(legacy)
    tracker.add_bot(BotMessage(recipient_id="old", text="Call 555-0199 if you need us"), 60)
    state = tracker.to_stored_state(redact_value, keep_slots={"order_id"})
    stored = json.dumps(state)
    for secret in ["12 Oak Street", "62704", "555-0199", "ann@example.com"]:
        assert secret not in stored
    assert state["slots"]["order_id"] == "SI4829301746"
    assert state["redacted_events"] == 3
    # Loaded again, the stored events count as redacted: only new ones are redacted.
    again = Tracker.from_state(state)
    assert again.redacted_events == 3
    again.events[0]["text"] = "marker 555-0100"  # left alone: it was redacted when stored
    again.add_user(ParseResult(text="hi", intent={"name": "greet", "confidence": 1.0},
                               intent_ranking=[], entities=[]), 60)  # fmt: skip
    assert again.to_stored_state(redact_value)["events"][0]["text"] == "marker 555-0100"
