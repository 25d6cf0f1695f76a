"""`shopintent segments export`: segments from intents and behaviour, consent respected."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from actions.models import Product
from actions.store import session_scope
from bot.events import EventIn, set_consent, store_events
from bot.store import TranscriptStore, TurnRecord
from shopintent.cli import main
from tests.actions.conftest import seed_store


@pytest.fixture
def url(tmp_path: Path) -> str:
    return seed_store(f"sqlite:///{tmp_path / 'shop.db'}")


def turn(store: TranscriptStore, sender: str, text: str, intent: str, customer: str | None) -> None:
    held = store.acquire(sender)
    state = {"sender_id": sender, "slots": {"customer_id": customer}, "events": []}
    store.save(
        held,
        state,
        TurnRecord(
            text=text,
            parse_data={"intent": {"name": intent, "confidence": 0.9}},
            model_version="m",
            actions=["action_handoff"] if intent == "complaint" else [],
            replies=[],
            error=None,
            latency_ms=1.0,
        ),
    )


def products_of(url: str, category: str, n: int) -> list[int]:
    with session_scope(url) as session:
        return list(
            session.scalars(select(Product.id).where(Product.category == category).limit(n))
        )


def export(url: str, tmp_path: Path) -> list[dict[str, Any]]:
    out = tmp_path / "segments.csv"
    assert main(["segments", "export", "--out", str(out), "--database-url", url]) == 0
    with out.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_segments_come_from_intents_and_behaviour(url: str, tmp_path: Path) -> None:
    store = TranscriptStore(url)
    store.create_tables()
    turn(store, "c_ann", "can I return the lamp?", "check_refund_policy", "42")
    turn(store, "c_ann", "it arrived broken", "complaint", "42")
    turn(store, "c_bob", "headphones under $50", "product_search", None)
    turn(store, "c_bob", "cheap earbuds", "product_search", None)
    views = [EventIn("product_view", p, None) for p in products_of(url, "furniture", 3)]
    store_events(store.engine, "customer:42", "c_ann", views)
    store_events(
        store.engine, "c_bob", "c_bob", [EventIn("product_view", views[0].product_id, None)]
    )
    store.dispose()

    rows = {(r["shopper"], r["segment"]): int(r["evidence"]) for r in export(url, tmp_path)}

    assert rows == {
        ("customer:42", "asked_about_returns"): 1,
        ("customer:42", "churn_risk"): 1,
        ("customer:42", "high_intent:furniture"): 3,
        ("c_bob", "price_sensitive"): 2,
    }


def test_a_shopper_who_opted_out_has_no_events_and_no_segments(url: str, tmp_path: Path) -> None:
    store = TranscriptStore(url)
    store.create_tables()
    turn(store, "c_cat", "refund please", "get_refund", None)
    views = [EventIn("product_view", p, None) for p in products_of(url, "beauty", 3)]
    store_events(store.engine, "c_cat", "c_cat", views)

    assert set_consent(store.engine, "c_cat", False) == 3
    from sqlalchemy import func

    from bot.events import BehaviourEvent

    with store.engine.connect() as conn:
        left = conn.scalar(select(func.count()).where(BehaviourEvent.shopper == "c_cat"))
    store.dispose()
    assert left == 0
    assert export(url, tmp_path) == []
