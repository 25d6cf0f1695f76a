"""Conversation locks fail safe: a dead worker's lock frees in seconds, a live one's holds."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import delete

from bot.errors import StoreError
from bot.settings import BotSettings
from bot.store import LEASE_S, Conversation, Lock, TranscriptStore, Turn
from tests.bot.conftest import PG_URL, AppFactory, say, turn_record

REPO = Path(__file__).resolve().parents[2]


Hold = Callable[[str, str], "subprocess.Popen[str]"]


@pytest.fixture
def crashed_worker() -> Iterator[Hold]:
    """Starts `hold(url, sender)`: a worker process that takes a lock and is then killed."""
    procs: list[subprocess.Popen[str]] = []

    def hold(url: str, sender: str) -> subprocess.Popen[str]:
        code = textwrap.dedent(
            f"""
            import time
            from bot.store import TranscriptStore
            store = TranscriptStore({url!r})
            store.create_tables()
            store.acquire({sender!r})
            print("held", flush=True)
            time.sleep(600)
            """
        )
        proc = subprocess.Popen(
            [sys.executable, "-c", code],
            cwd=REPO,
            env={**os.environ, "PYTHONPATH": str(REPO)},
            stdout=subprocess.PIPE,
            text=True,
        )
        procs.append(proc)
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "held"
        return proc

    yield hold
    for proc in procs:
        proc.kill()
        proc.wait()


def kill(proc: subprocess.Popen[str]) -> None:
    """SIGKILL: no `finally`, no release, no renewal ever again."""
    proc.kill()
    proc.wait()


def test_a_message_for_a_crashed_workers_conversation_is_answered_within_15_seconds(
    make_client: AppFactory, bot_settings: BotSettings, crashed_worker: Hold
) -> None:
    with make_client() as client:
        kill(crashed_worker(bot_settings.database_url, "crashed-sender"))

        started = time.monotonic()
        replies = say(client, "hello", sender="crashed-sender")
        waited = time.monotonic() - started

        assert replies, "the waiting message got no answer"
        assert waited < 15, f"answered after {waited:.1f}s"
    store = TranscriptStore(bot_settings.database_url)
    assert [t["text"] for t in store.turns("crashed-sender")] == ["hello"]
    store.dispose()


def test_the_lease_runs_out_before_a_waiting_message_gives_up() -> None:
    store = TranscriptStore("sqlite://")

    assert LEASE_S <= 10
    assert store.lock_timeout_s > LEASE_S


def test_a_lock_is_renewed_while_its_turn_runs(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    worker = TranscriptStore(url, lease_s=0.6)
    worker.create_tables()
    other = TranscriptStore(url, lock_timeout_s=2.0, lease_s=0.6)
    held = worker.acquire("slow-turn")

    # Three leases long: without renewal `other` would take the conversation.
    with pytest.raises(StoreError, match="stayed locked"):
        other.acquire("slow-turn")
    worker.save(held, {"n": 1}, turn_record("slow"))

    after = other.acquire("slow-turn")
    assert after.seq == 2 and after.state == {"n": 1}
    other.release(after)
    worker.dispose()
    other.dispose()


def test_a_wedged_turn_loses_its_lock_and_its_late_save_stores_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    wedged = TranscriptStore(url, lease_s=0.3, max_hold_s=0.5)
    wedged.create_tables()
    other = TranscriptStore(url, lock_timeout_s=5.0)
    stale = wedged.acquire("wedged")

    started = time.monotonic()
    fresh = other.acquire("wedged")
    assert time.monotonic() - started < 3
    other.save(fresh, {"by": "other"}, turn_record("newer"))

    with pytest.raises(StoreError, match="ran out while this turn ran"):
        wedged.save(stale, {"by": "wedged"}, turn_record("late"))
    assert [t["text"] for t in other.turns("wedged")] == ["newer"]
    wedged.dispose()
    other.dispose()


def test_saving_or_releasing_stops_the_renewals(tmp_path: Path) -> None:
    store = TranscriptStore(f"sqlite:///{tmp_path / 'bot.db'}", lease_s=0.3)
    store.create_tables()
    held = store.acquire("done")
    store.save(held, {}, turn_record("one"))
    released = store.acquire("done")
    store.release(released)

    assert store.renew(held) is False
    assert store.renew(released) is False
    store.dispose()


@pytest.fixture
def pg_url() -> Iterator[str]:
    probe = TranscriptStore(PG_URL)
    if not probe.ping():
        pytest.skip("PostgreSQL is not running on 127.0.0.1:5432")
    probe.create_tables()
    yield PG_URL
    probe.dispose()


def _forget(url: str, sender: str) -> None:
    store = TranscriptStore(url)
    with store.engine.begin() as conn:
        conn.execute(delete(Turn).where(Turn.sender_id == sender))
        conn.execute(delete(Conversation).where(Conversation.sender_id == sender))
        conn.execute(delete(Lock).where(Lock.sender_id == sender))
    store.dispose()


@pytest.mark.postgres
def test_postgres_frees_a_crashed_workers_lease_within_15_seconds(
    pg_url: str, crashed_worker: Hold
) -> None:
    sender = f"pg-crash-{uuid.uuid4().hex[:8]}"
    kill(crashed_worker(pg_url, sender))
    store = TranscriptStore(pg_url, lock_timeout_s=15)
    try:
        started = time.monotonic()
        held = store.acquire(sender)
        assert time.monotonic() - started < 15
        store.save(held, {}, turn_record("after the crash"))
    finally:
        store.dispose()
        _forget(pg_url, sender)


@pytest.mark.postgres
def test_postgres_keeps_a_long_turns_lock_and_ends_a_wedged_one(pg_url: str) -> None:
    sender = f"pg-hold-{uuid.uuid4().hex[:8]}"
    worker = TranscriptStore(pg_url, lease_s=0.6, max_hold_s=1.5)
    other = TranscriptStore(pg_url, lock_timeout_s=1.0)
    try:
        held = worker.acquire(sender)
        # Renewed past its lease: still held.
        with pytest.raises(StoreError):
            other.acquire(sender)
        # Past max_hold_s the renewals stop and the lease runs out.
        time.sleep(2.5)
        fresh = other.acquire(sender)
        other.save(fresh, {}, turn_record("newer"))
        with pytest.raises(StoreError):
            worker.save(held, {}, turn_record("late"))
        assert [t["text"] for t in other.turns(sender)] == ["newer"]
    finally:
        worker.dispose()
        other.dispose()
        _forget(pg_url, sender)


@pytest.mark.postgres
def test_postgres_holds_more_conversations_than_the_pool_has_connections(pg_url: str) -> None:
    # A turn holds a lease row, not a pooled connection: 40 turns in flight in one
    # worker (pool: 10 + 20 overflow) leave the pool free for their own statements.
    senders = [f"pg-many-{uuid.uuid4().hex[:8]}" for _ in range(40)]
    store = TranscriptStore(pg_url, lock_timeout_s=2.0)
    try:
        held = [store.acquire(sender) for sender in senders]
        assert store.engine.pool.checkedout() == 0  # type: ignore[attr-defined]
        assert store.ping()
        for one in held:
            store.save(one, {}, turn_record(one.sender_id))
        assert [t["text"] for t in store.turns(senders[-1])] == [senders[-1]]
    finally:
        store.dispose()
        for sender in senders:
            _forget(pg_url, sender)
