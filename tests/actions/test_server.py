"""The action server over HTTP: a real `python -m rasa_sdk --actions actions` process."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.actions.conftest import DOMAIN_ACTIONS, first_order, owner
from tests.conftest import free_port, stop, wait_for

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def start(command: list[str], url: str, *, auto_seed: bool) -> tuple[subprocess.Popen[bytes], str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHOPINTENT_")}
    env.update(
        SHOPINTENT_DATABASE_URL=url,
        SHOPINTENT_AUTO_SEED="true" if auto_seed else "false",
        SANIC_HOST="127.0.0.1",
        ACTION_SERVER_SANIC_WORKERS="1",
        PYTHONPATH=str(REPO),
        HF_HUB_OFFLINE="1",
    )
    port = free_port()
    proc = subprocess.Popen(
        [*command, "--port", str(port)],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    return proc, f"http://127.0.0.1:{port}"


@pytest.fixture(scope="module")
def servers(seeded_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """Three servers started together: rasa-sdk on the seeded store, `shopintent actions`
    on an empty store it seeds itself, and rasa-sdk on a missing store (auto-seed off)."""
    folder = tmp_path_factory.mktemp("servers")
    rasa = [sys.executable, "-m", "rasa_sdk", "--actions", "actions"]
    started = {
        "rasa_sdk": start(rasa, seeded_url, auto_seed=False),
        "cli": start(
            [sys.executable, "-m", "shopintent", "actions"],
            f"sqlite:///{folder / 'empty.db'}",
            auto_seed=True,
        ),
        "missing": start(rasa, f"sqlite:///{folder / 'missing.db'}", auto_seed=False),
    }
    try:
        for proc, base in started.values():
            wait_for(f"{base}/health", proc=proc)
        yield {name: base for name, (_, base) in started.items()}
    finally:
        for proc, _ in started.values():
            stop(proc)


def rasa_call(
    action: str,
    text: str,
    *,
    slots: dict[str, Any] | None = None,
    entities: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The exact body Rasa 3.6 sends to an action server (ARCHITECTURE.md)."""
    return {
        "next_action": action,
        "sender_id": "u1",
        "version": "3.6.21",
        "tracker": {
            "sender_id": "u1",
            "slots": slots or {},
            "latest_message": {
                "text": text,
                "intent": {"name": "track_order", "confidence": 0.97},
                "intent_ranking": [{"name": "track_order", "confidence": 0.97}],
                "entities": entities or [],
            },
            "latest_event_time": 1700000000.1,
            "followup_action": None,
            "paused": False,
            "events": [
                {
                    "event": "user",
                    "timestamp": 1700000000.1,
                    "text": text,
                    "parse_data": {},
                    "input_channel": "rest",
                }
            ],
            "latest_input_channel": "rest",
            "active_loop": {},
            "latest_action": {"action_name": "action_listen"},
            "latest_action_name": "action_listen",
        },
        "domain": {
            "config": {},
            "session_config": {},
            "intents": [],
            "entities": [],
            "slots": {},
            "responses": {},
            "actions": [],
            "forms": {},
            "e2e_actions": [],
        },
    }


def test_health_returns_ok(servers: dict[str, str]) -> None:
    assert httpx.get(f"{servers['rasa_sdk']}/health").json() == {"status": "ok"}


def test_actions_lists_every_action(servers: dict[str, str]) -> None:
    names = {a["name"] for a in httpx.get(f"{servers['rasa_sdk']}/actions").json()}
    assert set(DOMAIN_ACTIONS) <= names


def test_webhook_order_status_replies_and_sets_the_slot(
    servers: dict[str, str], seeded_url: str
) -> None:
    order_id = first_order(seeded_url, "shipped")
    body = rasa_call(
        "action_order_status",
        f"where is my order {order_id}?",
        slots=owner(seeded_url, order_id),
        entities=[
            {
                "entity": "order_id",
                "value": order_id,
                "start": 18,
                "end": 18 + len(order_id),
                "extractor": "x",
            }
        ],
    )
    response = httpx.post(f"{servers['rasa_sdk']}/webhook", json=body, timeout=30)
    assert response.status_code == 200
    payload = response.json()
    assert f"Order {order_id}" in payload["responses"][0]["text"]
    assert {"event": "slot", "name": "order_id", "value": order_id, "timestamp": None} in payload[
        "events"
    ]


def test_webhook_product_search_sends_product_cards(servers: dict[str, str]) -> None:
    body = rasa_call("action_product_search", "wireless earphones under 100")
    payload = httpx.post(f"{servers['rasa_sdk']}/webhook", json=body, timeout=30).json()
    cards = payload["responses"][0]["custom"]["products"]
    assert [c["title"] for c in cards] == ["Beats Flex Wireless Earphones"]
    assert set(cards[0]) == {"id", "title", "brand", "price", "rating", "availability"}


def test_webhook_order_status_for_a_guest_without_an_email_asks_for_it(
    servers: dict[str, str], seeded_url: str
) -> None:
    order_id = first_order(seeded_url, "shipped")
    body = rasa_call("action_order_status", f"where is my order {order_id}?")
    payload = httpx.post(f"{servers['rasa_sdk']}/webhook", json=body, timeout=30).json()
    assert "what is the e-mail address on order" in payload["responses"][0]["text"]
    assert "shipped on" not in payload["responses"][0]["text"]
    assert payload["events"] == []


def test_webhook_with_unknown_action_returns_404(servers: dict[str, str]) -> None:
    response = httpx.post(
        f"{servers['rasa_sdk']}/webhook", json=rasa_call("action_fly_to_mars", "hi"), timeout=30
    )
    assert response.status_code == 404
    assert response.json()["action_name"] == "action_fly_to_mars"


def test_webhook_with_junk_text_still_answers_200(servers: dict[str, str]) -> None:
    body = rasa_call("action_product_info", "'; DROP TABLE products; --" + "x" * 10_000)
    response = httpx.post(f"{servers['rasa_sdk']}/webhook", json=body, timeout=30)
    assert response.status_code == 200
    assert response.json()["responses"][0]["text"]


def test_cli_server_seeds_an_empty_store_on_demand(servers: dict[str, str]) -> None:
    body = rasa_call("action_product_info", "how much is the mascra?")
    response = httpx.post(f"{servers['cli']}/webhook", json=body, timeout=30)
    assert response.status_code == 200
    assert "Essence Mascara Lash Princess costs $9.99" in response.json()["responses"][0]["text"]


def test_webhook_rejects_with_400_when_the_store_is_missing(servers: dict[str, str]) -> None:
    body = rasa_call("action_payment_methods", "how can I pay")
    response = httpx.post(f"{servers['missing']}/webhook", json=body, timeout=30)
    assert response.status_code == 400
    payload = response.json()
    assert payload["action_name"] == "action_payment_methods"
    assert "shopintent db init" in payload["error"]
