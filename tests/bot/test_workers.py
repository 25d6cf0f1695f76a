"""`shopintent serve --workers 2` on PostgreSQL: concurrent shoppers, every turn stored in order.

A real action server (`shopintent actions`) and a real bot with two uvicorn worker
processes share a fresh schema of the local PostgreSQL `test` database. Forty shoppers
talk at once, each through a conversation id the bot issued, as the widget does; a
shopper's messages land on whichever worker the kernel hands the connection to, and the
stored transcript must hold each message once, in the order it was sent.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from actions.store import ensure_seeded, list_orders
from benchmarks.webhook import Shopper, check_transcript, conversation, load
from bot.store import TranscriptStore
from tests.actions.conftest import postgres_schema
from tests.conftest import free_port, running, tail

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

SHOPPERS = 40
# Pause between one shopper's messages, seconds: short, so the turns overlap.
THINK_S = (0.05, 0.3)


@dataclass(frozen=True)
class Stack:
    """The running pair: the bot's base URL, the shared database, the bot's log."""

    bot_url: str
    database_url: str
    bot_log: Path


@pytest.fixture(scope="module")
def stack(tiny_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """`shopintent actions` and `shopintent serve --workers 2` on a seeded PostgreSQL schema.

    Skips when PostgreSQL is not reachable; the schema is dropped afterwards.
    """
    logs = tmp_path_factory.mktemp("workers")
    with postgres_schema() as database_url:
        ensure_seeded(database_url)
        actions_port, bot_port = free_port(), free_port()
        env = {
            "SHOPINTENT_DATABASE_URL": database_url,
            "SHOPINTENT_AUTO_SEED": "false",
            # No secret at all: the workers must still accept each other's conversation ids.
            "SHOPINTENT_ACTIONS_SECRET": "",
            "SHOPINTENT_IDENTITY_SECRET": "",
            "SHOPINTENT_CONVERSATION_SECRET": "",
            "SHOPINTENT_WEBHOOK_TOKEN": "",
            "SHOPINTENT_REDIS_URL": "",
            # Every shopper here is 127.0.0.1: only the per-conversation limit applies.
            "SHOPINTENT_CLIENT_RATE_LIMIT": "",
            "SHOPINTENT_SESSION_RATE_LIMIT": "",
        }
        actions_cmd = [
            sys.executable, "-m", "shopintent", "actions", "--port", str(actions_port),
        ]  # fmt: skip
        bot_cmd = [
            sys.executable, "-m", "shopintent", "serve", "--port", str(bot_port),
            "--workers", "2", "--model", str(tiny_model),
            "--action-endpoint", f"http://127.0.0.1:{actions_port}/webhook",
        ]  # fmt: skip
        actions_url = f"http://127.0.0.1:{actions_port}/health"
        bot_url = f"http://127.0.0.1:{bot_port}"
        with (
            running(actions_cmd, actions_url, env, log=logs / "actions.log", timeout_s=120),
            running(bot_cmd, f"{bot_url}/ready", env, log=logs / "bot.log", timeout_s=120),
        ):
            yield Stack(bot_url, database_url, logs / "bot.log")


def test_two_workers_store_every_turn_of_40_concurrent_shoppers_once_and_in_order(
    stack: Stack,
) -> None:
    orders = [(o.id, o.email) for o in list_orders(stack.database_url, limit=SHOPPERS)]
    # Half type every message (the model in each worker), half tap buttons (`/intent`).
    shoppers = [
        Shopper(conversation(*orders[i % len(orders)], direct=i % 2 == 1)) for i in range(SHOPPERS)
    ]

    asyncio.run(asyncio.wait_for(load(stack.bot_url, shoppers, THINK_S, None), 120))

    errors = [f"{s.sender}: {e}" for s in shoppers for e in s.errors]
    assert errors == [], f"{len(errors)} failed messages, e.g. {errors[:3]}\n{tail(stack.bot_log)}"
    lost, reordered, _latencies = check_transcript(stack.database_url, shoppers)
    assert (lost, reordered) == (0, 0), f"{lost} turns lost, {reordered} conversations reordered"


async def _burst(bot_url: str, messages: list[str]) -> tuple[str, list[int]]:
    """Open a conversation and send all `messages` at once, each on its own connection."""
    async with httpx.AsyncClient(timeout=60) as opener:
        sender = (await opener.post(f"{bot_url}/webhooks/rest/session", json={})).json()["sender"]

    async def send(text: str) -> int:
        # A client per message: separate connections, so the workers race for the turn.
        async with httpx.AsyncClient(timeout=60) as client:
            body = {"sender": sender, "message": text}
            return (await client.post(f"{bot_url}/webhooks/rest/webhook", json=body)).status_code

    return sender, list(await asyncio.gather(*(send(m) for m in messages)))


def test_messages_sent_at_once_to_one_conversation_take_turns_across_workers(
    stack: Stack,
) -> None:
    messages = ["/greet", "/track_order", "/check_refund_policy", "/thank_you"]

    async def bursts() -> list[tuple[str, list[int]]]:
        return list(await asyncio.gather(*(_burst(stack.bot_url, messages) for _ in range(10))))

    store = TranscriptStore(stack.database_url)
    try:
        for sender, statuses in asyncio.run(asyncio.wait_for(bursts(), 120)):
            assert statuses == [200] * len(messages), tail(stack.bot_log)
            turns = store.turns(sender)
            # Arrival order is the lock's to choose; each message is stored once, seq 1..n.
            assert sorted(t["text"] for t in turns) == sorted(messages)
            assert [t["seq"] for t in turns] == list(range(1, len(messages) + 1))
    finally:
        store.dispose()
