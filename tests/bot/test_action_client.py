"""The action client speaks Rasa's action-server protocol to a real rasa-sdk server."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.action_client import ActionClient
from bot.domain import load_domain
from bot.errors import ActionRejectedError, ActionServerError
from bot.tracker import Tracker
from core.wire import ActionResult
from tests.bot.conftest import DOMAIN, POLICY


def _call(
    endpoint: str, action: str, slots: dict[str, str] | None = None, timeout_s: float = 3.0
) -> ActionResult:
    domain = load_domain(DOMAIN, POLICY)
    tracker = Tracker.new("client-test", domain.slots)
    tracker.slots.update(slots or {})

    async def go() -> ActionResult:
        client = ActionClient(endpoint, timeout_s)
        try:
            return await client.run(action, tracker.to_rasa(), domain.as_action_server_domain())
        finally:
            await client.aclose()

    return asyncio.run(go())


def test_action_returns_its_responses_and_slot_events(test_action_server: str) -> None:
    result = _call(
        test_action_server,
        "action_order_status",
        {"order_id": "1042", "order_email": "ann@example.com"},
    )
    assert result["responses"][0]["text"] == "Order 1042 is shipped."
    assert {"event": "slot", "name": "order_status", "value": "shipped"}.items() <= result[
        "events"
    ][0].items()


def test_unknown_action_is_rejected_with_404(test_action_server: str) -> None:
    with pytest.raises(ActionRejectedError, match="answered 404 for 'action_nope'"):
        _call(test_action_server, "action_nope")


def test_action_that_raises_is_a_server_error(test_action_server: str) -> None:
    with pytest.raises(ActionServerError, match="HTTP 500"):
        _call(test_action_server, "action_payment_methods")


def test_unreachable_server_says_how_to_start_it() -> None:
    with pytest.raises(ActionServerError, match="shopintent actions"):
        _call("http://127.0.0.1:9/webhook", "action_order_status")


def test_slow_action_times_out(test_action_server: str) -> None:
    with pytest.raises(ActionServerError, match="did not answer 'action_order_status' in time"):
        _call(test_action_server, "action_order_status", {"order_id": "999"}, timeout_s=0.3)


def test_health_check_tells_up_from_down(test_action_server: str, tmp_path: Path) -> None:
    async def check(endpoint: str) -> bool:
        client = ActionClient(endpoint, 2.0)
        try:
            return await client.healthy()
        finally:
            await client.aclose()

    assert asyncio.run(check(test_action_server)) is True
    assert asyncio.run(check("http://127.0.0.1:9/webhook")) is False
