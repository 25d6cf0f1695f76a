"""`POST /events`: behaviour events with the webhook's identity, validated, only with consent."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from bot.events import BehaviourEvent, TrackingOptOut
from bot.identity import issue_customer_token
from tests.bot.conftest import IDENTITY_SECRET


def stored(client: TestClient) -> list[tuple[str, str, int | None, str | None]]:
    engine = client.app.state.chat.store.engine  # type: ignore[attr-defined]
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                BehaviourEvent.shopper,
                BehaviourEvent.type,
                BehaviourEvent.product_id,
                BehaviourEvent.query,
            ).order_by(BehaviourEvent.id)
        ).all()
    return [tuple(r) for r in rows]  # type: ignore[misc]


def browser(client: TestClient, body: dict[str, Any]) -> Any:
    return client.post("/events", json=body, headers={"Authorization": ""})


def session(client: TestClient) -> str:
    return str(client.post("/webhooks/rest/session", json={}).json()["sender"])


def test_a_guest_batch_is_stored_under_the_conversation(client: TestClient) -> None:
    sender = session(client)
    events = [
        {"type": "product_view", "product_id": 12},
        {"type": "search", "query": "sofa for ann@example.com"},
        {"type": "add_to_cart", "product_id": 12},
    ]
    response = browser(client, {"sender": sender, "events": events})
    assert response.status_code == 202 and response.json() == {"stored": 3}
    assert stored(client) == [
        (sender, "product_view", 12, None),
        (sender, "search", None, "sofa for [EMAIL]"),
        (sender, "add_to_cart", 12, None),
    ]


def test_a_signed_in_shoppers_events_are_theirs_not_the_conversations(
    client: TestClient,
) -> None:
    sender = session(client)
    token = issue_customer_token("42", IDENTITY_SECRET)
    body = {
        "sender": sender,
        "events": [{"type": "purchase", "product_id": 3}],
        "metadata": {"customer_token": token},
    }
    assert browser(client, body).status_code == 202
    assert stored(client) == [("customer:42", "purchase", 3, None)]


@pytest.mark.parametrize(
    ("events", "needle"),
    [
        ([], "non-empty list"),
        ([{"type": "hover", "product_id": 1}], "one of product_view"),
        ([{"type": "product_view"}], "product_id"),
        ([{"type": "product_view", "product_id": -3}], "positive integer"),
        ([{"type": "product_view", "product_id": True}], "positive integer"),
        ([{"type": "search"}], "query"),
        ([{"type": "product_view", "product_id": 1}] * 51, "at most 50"),
        (["view"], "an object"),
    ],
)
def test_bad_batches_get_a_clear_422_and_store_nothing(
    client: TestClient, events: list[Any], needle: str
) -> None:
    response = browser(client, {"sender": session(client), "events": events})
    assert response.status_code == 422
    assert needle in response.json()["message"]
    assert stored(client) == []


def test_events_need_an_issued_conversation_id(client: TestClient) -> None:
    response = browser(client, {"sender": "alice", "events": [{"type": "search", "query": "x"}]})
    assert response.status_code == 401 and response.json()["error"] == "invalid_sender"
    assert browser(client, {"events": []}).status_code == 400
    assert stored(client) == []


def test_saying_no_deletes_the_shoppers_events_and_records_the_opt_out(
    client: TestClient,
) -> None:
    sender = session(client)
    browser(client, {"sender": sender, "events": [{"type": "product_view", "product_id": 5}]})
    response = browser(client, {"sender": sender, "consent": False, "events": []})
    assert response.status_code == 202 and response.json() == {"stored": 0, "removed": 1}
    assert stored(client) == []
    # A batch sent with consent false is dropped, not stored.
    body = {"sender": sender, "consent": False, "events": [{"type": "purchase", "product_id": 5}]}
    assert browser(client, body).json()["stored"] == 0
    engine = client.app.state.chat.store.engine  # type: ignore[attr-defined]
    with engine.connect() as conn:
        assert list(conn.scalars(select(TrackingOptOut.shopper))) == [sender]
    assert stored(client) == []
