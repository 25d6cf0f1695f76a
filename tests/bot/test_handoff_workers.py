"""Live handoff across two bot workers sharing one PostgreSQL database.

Two app instances, each under its own uvicorn server with its own engine, event loop and
wake-up hub, share a fresh PostgreSQL database; nothing passes between them but the
database and the broker (PostgreSQL `LISTEN/NOTIFY`, Redis pub/sub, or nothing: polling).
The shopper's stream is on one worker while the agent writes on the other; the stream is
dropped mid-conversation and resumed on the other worker with `Last-Event-ID`.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from bot.app import create_app
from bot.settings import BotSettings
from bot.store import TranscriptStore
from tests.bot.conftest import DOMAIN, POLICY, KeywordClassifier, serving, use_review

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
REDIS_URL = "redis://127.0.0.1:6379/15"
WEBHOOK_TOKEN = "workers-webhook-token"
REVIEW_TOKEN = "workers-review-token-of-at-least-32-characters"
AGENT = {"Authorization": f"Bearer {REVIEW_TOKEN}"}
# The agent's reply must reach the shopper's stream on the other worker within this.
MAX_DELIVERY_S = 1.0


@pytest.fixture(scope="module")
def pg_database() -> Iterator[str]:
    """A fresh PostgreSQL database for this module (dropped afterwards)."""
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    name = f"shopintent_handoff_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError:
        pytest.skip("PostgreSQL is not running on 127.0.0.1:5432")
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def redis_up() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


@contextmanager
def worker(settings: BotSettings) -> Iterator[str]:
    """One bot worker under uvicorn in a thread; yields its URL."""
    app = create_app(settings, classifier=KeywordClassifier())
    use_review(app, REVIEW_TOKEN)
    with serving(app) as url:
        yield url


@dataclass
class StreamReader:
    """Reads a shopper's SSE stream in a thread until `until(event)` says stop."""

    url: str
    params: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)
    events: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    status: int | None = None
    error: BaseException | None = None
    until: Any = None
    changed: threading.Condition = field(default_factory=threading.Condition)

    def start(self) -> StreamReader:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        try:
            with (
                httpx.Client(timeout=httpx.Timeout(10, read=30)) as client,
                client.stream("GET", self.url, params=self.params, headers=self.headers) as r,
            ):
                self.status = r.status_code
                fields: dict[str, Any] = {}
                for line in r.iter_lines():
                    if line == "":
                        if "event" in fields:
                            fields["data"] = json.loads(fields["data"])
                            with self.changed:
                                self.events.append((time.monotonic(), fields))
                                self.changed.notify_all()
                            if self.until is not None and self.until(fields):
                                return  # drop the connection here
                        fields = {}
                    elif not line.startswith(":"):
                        name, _, value = line.partition(":")
                        fields[name] = value.strip()
        except BaseException as exc:  # reported by the test
            self.error = exc
        finally:
            with self.changed:
                self.changed.notify_all()

    def messages(self) -> list[dict[str, Any]]:
        return [e for _t, e in self.events if e["event"] == "message"]

    def wait_for_text(self, wanted: str, timeout_s: float) -> float:
        """Seconds until a message with `wanted` arrived (or fail)."""
        deadline = time.monotonic() + timeout_s
        with self.changed:
            while True:
                for at, e in self.events:
                    if e["event"] == "message" and e["data"]["text"] == wanted:
                        return at
                left = deadline - time.monotonic()
                if left <= 0 or not self._thread.is_alive():
                    pytest.fail(f"{wanted!r} did not arrive within {timeout_s}s: {self.events}")
                self.changed.wait(left)

    def join(self, timeout_s: float = 10) -> None:
        self._thread.join(timeout_s)
        assert not self._thread.is_alive(), "the stream did not end"
        assert self.error is None, self.error


def settings_for(database_url: str, mode: str, tmp_path: Path) -> BotSettings:
    return BotSettings(
        database_url=database_url,
        action_endpoint="http://127.0.0.1:9/webhook",  # not needed: the handoff action fails
        action_timeout_s=0.5,
        domain_path=DOMAIN,
        policy_path=POLICY,
        model_dir=tmp_path / "no-model",
        webhook_token=WEBHOOK_TOKEN,
        conversation_secret="workers-conversation-secret",
        conversation_rate_limit="",
        client_rate_limit="",
        redis_url=REDIS_URL if mode == "redis" else None,
        handoff_notify=mode,  # type: ignore[arg-type]
        handoff_poll_s=0.2,
        handoff_offer_email_after_s=0,
    )


@pytest.mark.parametrize("mode", ["postgres", "redis", "poll"])
def test_two_workers_deliver_every_message_once_in_order_across_a_dropped_stream(
    pg_database: str, tmp_path: Path, mode: str
) -> None:
    if mode == "redis" and not redis_up():
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    settings = settings_for(pg_database, mode, tmp_path)
    with worker(settings) as a, worker(settings) as b:
        sender = httpx.post(f"{a}/webhooks/rest/session", json={}).json()["sender"]

        def shopper(url: str, message: str) -> list[dict[str, Any]]:
            response = httpx.post(
                f"{url}/webhooks/rest/webhook",
                json={"sender": sender, "message": message},
                timeout=10,
            )
            assert response.status_code == 200, response.text
            replies: list[dict[str, Any]] = response.json()
            return replies

        def agent(url: str, method: str, path: str, **kwargs: Any) -> Any:
            response = httpx.request(method, f"{url}/api/agent{path}", headers=AGENT, **kwargs)
            assert response.status_code in (200, 201), response.text
            return response.json()

        sent: list[tuple[str, str]] = []  # (author, text) in the order they were sent

        def say_agent(url: str, words: str) -> None:
            agent(url, "POST", f"/handoffs/{hid}/messages", json={"text": words})
            sent.append(("agent", words))

        def say_shopper(url: str, words: str) -> None:
            assert shopper(url, words) == []  # with the team: no bot answer
            sent.append(("shopper", words))

        opened = shopper(a, "I need a person")
        assert opened[-1]["custom"]["handoff"]["state"] == "waiting"
        queue = agent(b, "GET", "/handoffs?state=waiting")["items"]
        [hid] = [h["id"] for h in queue if h["sender"] == sender]
        agent(b, "POST", f"/handoffs/{hid}/claim", json={"agent": "Anna"})

        # The shopper's stream on worker A; the agent writes on worker B.
        first = StreamReader(
            f"{a}/webhooks/rest/stream",
            {"sender": sender},
            until=lambda e: e["event"] == "message" and e["data"]["text"] == "agent 4",
        ).start()
        first.wait_for_text("Anna from support has joined the chat.", 5)
        delays = []
        for i in range(1, 5):
            say_shopper(a if i % 2 else b, f"shopper {i}")
            before = time.monotonic()
            say_agent(b, f"agent {i}")
            delays.append(first.wait_for_text(f"agent {i}", 5) - before)
        first.join()
        assert first.status == 200
        # Dropped: the conversation goes on while no stream is open, on both workers.
        for i in range(5, 9):
            say_agent(a if i % 2 else b, f"agent {i}")
            say_shopper(b if i % 2 else a, f"shopper {i}")
        last_id = first.messages()[-1]["id"]

        # Resumed on the other worker, as a reconnecting EventSource does.
        second = StreamReader(
            f"{b}/webhooks/rest/stream",
            {"sender": sender},
            headers={"Last-Event-ID": last_id},
            until=lambda e: e["event"] == "state" and e["data"]["state"] == "bot",
        ).start()
        second.wait_for_text("agent 8", 5)
        for i in range(9, 12):
            before = time.monotonic()
            say_agent(a, f"agent {i}")
            delays.append(second.wait_for_text(f"agent {i}", 5) - before)
            say_shopper(b, f"shopper {i}")
        agent(a, "POST", f"/handoffs/{hid}/close")
        second.join()

        streamed = first.messages() + second.messages()
        ids = [int(e["id"]) for e in streamed]
        assert ids == sorted(set(ids)), f"lost, doubled or out of order: {ids}"
        agent_lines = [e["data"]["text"] for e in streamed if e["data"]["from"] == "agent"]
        assert agent_lines == [t for who, t in sent if who == "agent"]
        assert all(e["data"]["agent"] == "Anna" for e in streamed if e["data"]["from"] == "agent")
        assert streamed[-1]["data"]["text"].startswith("Anna has closed this chat")

        # The record: both workers hold the same transcript, in the order things were said.
        on_a = agent(a, "GET", f"/handoffs/{hid}")
        on_b = agent(b, "GET", f"/handoffs/{hid}")
        assert on_a == on_b
        said = [(m["from"], m["text"]) for m in on_a["messages"] if m["from"] != "bot"]
        assert said == sent
        seqs = [m["seq"] for m in on_a["messages"]]
        assert seqs == list(range(1, len(seqs) + 1))
        pushed = [m["seq"] for m in on_a["messages"] if m["from"] != "shopper"]
        assert pushed == ids  # every bot and agent message reached the shopper, once

        # The live replies reached the other worker's stream in under a second.
        assert max(delays) < MAX_DELIVERY_S, delays
        # While the team had it, the policy answered nothing: no action in those turns.
        turns = TranscriptStore(pg_database).turns(sender)
        during = turns[1:]
        assert [t["text"] for t in during] == [t for who, t in sent if who == "shopper"]
        assert all(t["actions"] == [] and t["action"] is None for t in during), during

        # Back with the bot, on either worker.
        assert shopper(b, "hi")[0]["text"]
