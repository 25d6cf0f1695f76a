"""`shopintent privacy forget|purge`: a shopper's conversations go, everyone else's stay."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update

from actions.lookup_failures import record_lookup_failure
from actions.models import OrderLookupFailure, SupportTicket
from actions.orders import utcnow
from actions.store import session_scope
from bot.review.store import TurnReview
from bot.store import Conversation, TranscriptStore, Turn, TurnRecord
from shopintent.cli import main
from tests.actions.conftest import seed_store


@pytest.fixture
def url(tmp_path: Any) -> str:
    """A seeded shop database that also holds the bot's tables."""
    return seed_store(f"sqlite:///{tmp_path / 'shop.db'}")


@pytest.fixture
def store(url: str) -> Iterator[TranscriptStore]:
    """The bot's transcript store on `url`, its tables created; disposed after the test."""
    store = TranscriptStore(url)
    store.create_tables()
    yield store
    store.dispose()


def chat(
    store: TranscriptStore, sender: str, texts: list[str], customer: str | None = None
) -> None:
    """Store a conversation of `texts` as the bot does, with its tracker state."""
    for text in texts:
        held = store.acquire(sender)
        state = {
            "sender_id": sender,
            "slots": {"customer_id": customer},
            "events": [{"text": text}],
        }
        record = TurnRecord(
            text=text,
            parse_data={"intent": {"name": "greet", "confidence": 0.9}},
            model_version="m",
            actions=["utter_greet"],
            replies=[{"text": "hi"}],
            error=None,
            latency_ms=1.0,
        )
        store.save(held, state, record)


def ticket(url: str, sender: str, summary: str, *, days_old: int = 0) -> None:
    with session_scope(url) as session:
        session.add(
            SupportTicket(
                reference=f"SUP-{abs(hash((sender, summary))) % 10**6:06d}",
                sender_id=sender,
                summary=summary,
                status="open",
                created_at=utcnow() - timedelta(days=days_old),
            )
        )
        record_lookup_failure(session, "conversation", sender)


def counts(store: TranscriptStore, url: str, sender: str) -> dict[str, Any]:
    with store.engine.connect() as conn:
        turns = conn.scalar(select(func.count()).where(Turn.sender_id == sender))
        conversations = conn.scalar(select(func.count()).where(Conversation.sender_id == sender))
        reviews = conn.scalar(
            select(func.count())
            .select_from(TurnReview)
            .join(Turn, Turn.id == TurnReview.turn_id)
            .where(Turn.sender_id == sender)
        )
    with session_scope(url) as session:
        summaries = list(
            session.scalars(select(SupportTicket.summary).where(SupportTicket.sender_id == sender))
        )
        failures = session.scalar(select(func.count()).where(OrderLookupFailure.key == sender))
    return {
        "turns": turns,
        "conversations": conversations,
        "reviews": reviews,
        "tickets": summaries,
        "failures": failures,
    }


def label(store: TranscriptStore, sender: str) -> None:
    with store.engine.begin() as conn:
        turn_id = conn.scalar(select(Turn.id).where(Turn.sender_id == sender).limit(1))
        conn.execute(
            TurnReview.__table__.insert().values(
                turn_id=turn_id, verdict="correct", label="greet", reviewed_at=datetime.now(UTC)
            )
        )


def test_forget_sender_removes_every_row_of_that_conversation_only(
    url: str, store: TranscriptStore, capsys: pytest.CaptureFixture[str]
) -> None:
    chat(store, "c_victim", ["hi, I'm Ann", "my parcel never came"])
    chat(store, "c_other", ["hello"])
    label(store, "c_victim")
    ticket(url, "c_victim", "hi, I'm [NAME]\nmy parcel never came")
    ticket(url, "c_other", "hello")

    assert main(["privacy", "forget", "--sender", "c_victim", "--database-url", url]) == 0

    out = capsys.readouterr().out
    assert "2 turn(s)" in out and "1 ticket text(s)" in out
    gone = counts(store, url, "c_victim")
    assert gone == {
        "turns": 0,
        "conversations": 0,
        "reviews": 0,
        "tickets": ["(erased on request)"],
        "failures": 0,
    }
    kept = counts(store, url, "c_other")
    assert kept["turns"] == 1 and kept["conversations"] == 1 and kept["tickets"] == ["hello"]


def test_forget_customer_finds_their_conversations(
    url: str, store: TranscriptStore, capsys: pytest.CaptureFixture[str]
) -> None:
    chat(store, "c_a1", ["where is my order?"], customer="42")
    chat(store, "c_a2", ["cancel it"], customer="42")
    chat(store, "c_b", ["hi"], customer="7")
    from bot.events import EventIn, store_events

    store_events(store.engine, "customer:42", "c_a1", [EventIn("product_view", 12, None)])
    store_events(store.engine, "customer:7", "c_b", [EventIn("product_view", 12, None)])

    assert main(["privacy", "forget", "--customer", "42", "--database-url", url, "--json"]) == 0

    report = json.loads(capsys.readouterr().out)
    assert report["conversations"] == ["c_a1", "c_a2"] and report["bot"]["turns"] == 2
    assert report["bot"]["events"] == 1
    assert counts(store, url, "c_a1")["turns"] == counts(store, url, "c_a2")["turns"] == 0
    assert counts(store, url, "c_b")["turns"] == 1


def test_purge_removes_only_what_is_past_the_retention_period(
    url: str, store: TranscriptStore, capsys: pytest.CaptureFixture[str]
) -> None:
    chat(store, "c_old", ["an old question"])
    chat(store, "c_new", ["a new question"])
    long_ago = datetime.now(UTC) - timedelta(days=120)
    with store.engine.begin() as conn:
        conn.execute(update(Turn).where(Turn.sender_id == "c_old").values(created_at=long_ago))
        conn.execute(
            update(Conversation)
            .where(Conversation.sender_id == "c_old")
            .values(updated_at=long_ago)
        )
    ticket(url, "c_old", "an old question", days_old=120)
    ticket(url, "c_new", "a new question")

    assert main(["privacy", "purge", "--days", "90", "--database-url", url]) == 0

    assert counts(store, url, "c_old")["turns"] == 0
    assert counts(store, url, "c_old")["conversations"] == 0
    assert counts(store, url, "c_old")["tickets"] == ["(removed after the retention period)"]
    assert counts(store, url, "c_new")["turns"] == 1
    assert counts(store, url, "c_new")["tickets"] == ["a new question"]
    assert "older than 90 days" in capsys.readouterr().out


def test_purge_refuses_a_retention_below_one_day(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["privacy", "purge", "--days", "0", "--database-url", url]) == 2
    assert "at least 1" in capsys.readouterr().err
