"""The transcript store keeps each conversation's turns in order across workers."""

from __future__ import annotations

import threading
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import delete

from bot.errors import StoreError
from bot.store import Conversation, Lock, TranscriptStore, Turn
from tests.bot.conftest import PG_URL, turn_record


def _hammer(stores: list[TranscriptStore], sender: str, turns_per_thread: int) -> list[str]:
    """Several threads (on several store instances, like workers) write one conversation."""
    inside = 0
    overlaps = 0
    guard = threading.Lock()
    errors: list[BaseException] = []

    def work(worker: int) -> None:
        nonlocal inside, overlaps
        store = stores[worker % len(stores)]
        try:
            for i in range(turns_per_thread):
                held = store.acquire(sender)
                with guard:
                    inside += 1
                    overlaps += inside > 1
                time.sleep(0.002)
                state = dict(held.state or {})
                state["count"] = state.get("count", 0) + 1
                with guard:
                    inside -= 1
                store.save(held, state, turn_record(f"w{worker}-{i}"))
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert overlaps == 0
    turns = stores[0].turns(sender)
    assert [t["seq"] for t in turns] == list(range(1, 6 * turns_per_thread + 1))
    final = stores[0].acquire(sender)
    assert final.state is not None and final.state["count"] == 6 * turns_per_thread
    stores[0].release(final)
    return [t["text"] for t in turns]


def test_sqlite_lock_serialises_one_conversation_across_workers(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    stores = [TranscriptStore(url), TranscriptStore(url)]
    stores[0].create_tables()
    texts = _hammer(stores, "same-sender", turns_per_thread=5)
    # Each worker's own turns keep their order.
    for worker in range(6):
        mine = [t for t in texts if t.startswith(f"w{worker}-")]
        assert mine == [f"w{worker}-{i}" for i in range(5)]


def test_sqlite_lock_times_out_with_a_clear_error(tmp_path: Path) -> None:
    store = TranscriptStore(f"sqlite:///{tmp_path / 'bot.db'}", lock_timeout_s=0.2)
    store.create_tables()
    held = store.acquire("busy")
    with pytest.raises(StoreError, match="stayed locked"):
        store.acquire("busy")
    store.release(held)
    store.release(store.acquire("busy"))


def test_released_lock_lets_the_next_message_in_without_storing_a_turn(tmp_path: Path) -> None:
    store = TranscriptStore(f"sqlite:///{tmp_path / 'bot.db'}", lock_timeout_s=1)
    store.create_tables()
    store.release(store.acquire("x"))
    held = store.acquire("x")
    assert held.seq == 1
    store.save(held, {}, turn_record("first"))
    assert [t["seq"] for t in store.turns("x")] == [1]


def test_bad_database_url_says_how_to_fix_it() -> None:
    with pytest.raises(StoreError, match="SHOPINTENT_DATABASE_URL"):
        TranscriptStore("nosuchdb://x")


@pytest.fixture
def pg_stores() -> list[TranscriptStore]:
    stores = [TranscriptStore(PG_URL), TranscriptStore(PG_URL)]
    if not stores[0].ping():
        pytest.skip("PostgreSQL is not running on 127.0.0.1:5432")
    stores[0].create_tables()
    return stores


@pytest.mark.postgres
def test_postgres_row_lock_serialises_one_conversation_across_workers(
    pg_stores: list[TranscriptStore],
) -> None:
    sender = f"pg-{uuid.uuid4().hex[:8]}"
    try:
        _hammer(pg_stores, sender, turns_per_thread=4)
    finally:
        with pg_stores[0].engine.begin() as conn:
            conn.execute(delete(Turn).where(Turn.sender_id == sender))
            conn.execute(delete(Conversation).where(Conversation.sender_id == sender))
            conn.execute(delete(Lock).where(Lock.sender_id == sender))
        for store in pg_stores:
            store.dispose()
