"""Failing safe, seen from outside: `/ready` says degraded, hostile text is answered fast."""

from __future__ import annotations

import threading
import time

from fastapi.testclient import TestClient

from tests.bot.conftest import AppFactory, KeywordClassifier, say, texts


def test_ready_says_degraded_while_an_older_model_serves(make_client: AppFactory) -> None:
    classifier = KeywordClassifier()
    classifier.degraded_reason = "models/v2 failed to load; serving models/v1 instead"  # type: ignore[attr-defined]
    with make_client(classifier=classifier) as client:
        response = client.get("/ready")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert "v2 failed to load" in body["degraded_reason"]


def test_a_healthy_bot_is_not_degraded(client: TestClient) -> None:
    body = client.get("/ready").json()
    assert body["status"] == "ok" and "degraded_reason" not in body


def test_a_1000_character_hostile_message_is_answered_fast_and_does_not_hold_others(
    client: TestClient,
) -> None:
    # "track" starts the order form, so the slot prompt patterns read all of it.
    hostile = "track #" + "1" * 990 + "_"
    started = time.perf_counter()
    assert say(client, hostile, sender="hostile")
    assert time.perf_counter() - started < 0.5

    # Three hostile messages in flight do not hold up an innocent one.
    threads = [
        threading.Thread(target=say, args=(client, hostile), kwargs={"sender": f"h{i}"})
        for i in range(3)
    ]
    for thread in threads:
        thread.start()
    started = time.perf_counter()
    reply = texts(say(client, "where is my order?", sender="innocent"))
    elapsed = time.perf_counter() - started
    for thread in threads:
        thread.join()
    assert "order number" in reply and elapsed < 1.0
