"""Live wake-ups across bot workers: PostgreSQL `LISTEN/NOTIFY`, Redis pub/sub, or polling.

A wake-up only says "topic X changed" (a conversation's messages, or the queue); the
streams then read the database, which is the record. So a lost or doubled wake-up
costs nothing but a query, and a stream that reconnects resumes from its last seq.

- `postgres`: one `LISTEN` connection per worker; writers send `pg_notify` inside the
  transaction that stores the change (`bot.handoff.store`), delivered on commit.
- `redis`: one pub/sub subscription per worker (`SHOPINTENT_REDIS_URL`); writers
  publish after the commit.
- `poll`: no broker (e.g. SQLite): streams read the database every `poll_s`.

Inside one worker every write also wakes that worker's own streams at once. While a
broker is unreachable, streams fall back to polling and the listener reconnects.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Iterable, Iterator
from typing import Any, Literal

from sqlalchemy.engine import make_url

from bot.handoff.store import CHANNEL

logger = logging.getLogger(__name__)

NotifyMode = Literal["auto", "postgres", "redis", "poll"]
# With a live broker, streams still look at the database this often (a missed wake-up).
SAFETY_POLL_S = 15.0
_RECONNECT_S = (0.5, 1.0, 2.0, 5.0)
_WARN_EVERY_S = 60.0


async def stop_task(task: asyncio.Task[Any] | None) -> None:
    """Cancel a background task and wait until it ended, whatever it raised; None: no task."""
    if task is None:
        return
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await task


def resolve_mode(mode: NotifyMode, database_url: str, redis_url: str | None) -> NotifyMode:
    """`auto`: Redis when configured, else `LISTEN/NOTIFY` on PostgreSQL, else polling."""
    if mode != "auto":
        return mode
    if redis_url:
        return "redis"
    if database_url.startswith("postgresql"):
        return "postgres"
    return "poll"


def libpq_url(database_url: str) -> str:
    """The SQLAlchemy URL as psycopg's connection string (driver name dropped)."""
    url = make_url(database_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


class Watch:
    """A stream's subscription to some topics; `wait` returns when one changed."""

    def __init__(self, topics: frozenset[str]) -> None:
        self.topics = topics
        self.event = asyncio.Event()

    async def wait(self, timeout_s: float) -> bool:
        """Wait until woken or `timeout_s` passed; returns whether it was woken."""
        try:
            await asyncio.wait_for(self.event.wait(), timeout_s)
            woken = True
        except TimeoutError:
            woken = False
        # Cleared before the caller reads the database: a later wake-up is kept.
        self.event.clear()
        return woken


class LiveHub:
    """One worker's wake-up hub. Create and `start` it inside the app's event loop.

    Args:
        mode: `postgres`, `redis` or `poll` (see `resolve_mode`).
        database_url: The bot's database (for `LISTEN`).
        redis_url: Redis, for `redis` mode.
        poll_s: How often streams read the database without a live broker.
    """

    def __init__(
        self, mode: NotifyMode, database_url: str, redis_url: str | None, poll_s: float = 1.0
    ) -> None:
        self.mode = resolve_mode(mode, database_url, redis_url)
        if self.mode == "redis" and not redis_url:
            raise ValueError(
                "SHOPINTENT_HANDOFF_NOTIFY=redis needs SHOPINTENT_REDIS_URL "
                "(e.g. redis://127.0.0.1:6379/0); or use auto, postgres or poll"
            )
        if self.mode == "postgres" and not database_url.startswith("postgresql"):
            raise ValueError(
                "SHOPINTENT_HANDOFF_NOTIFY=postgres needs a PostgreSQL SHOPINTENT_DATABASE_URL; "
                f"found {make_url(database_url).drivername}; use auto, redis or poll"
            )
        self.database_url = database_url
        self.redis_url = redis_url
        self.poll_s = poll_s
        self._watches: dict[str, set[Watch]] = {}
        self._connected = False
        self._task: asyncio.Task[None] | None = None
        self._redis: Any = None
        self._warned_at = 0.0

    @property
    def connected(self) -> bool:
        """Whether wake-ups from other workers arrive (the broker answers)."""
        return self._connected

    @property
    def check_every_s(self) -> float:
        """How long a stream may wait before it reads the database anyway."""
        return SAFETY_POLL_S if self._connected else self.poll_s

    async def start(self) -> None:
        """Start listening (nothing to do in `poll` mode)."""
        if self.mode == "postgres":
            self._task = asyncio.create_task(self._listen_postgres(), name="handoff-listen")
        elif self.mode == "redis":
            self._task = asyncio.create_task(self._listen_redis(), name="handoff-listen")

    async def aclose(self) -> None:
        """Stop listening and wake every stream (they end or fall back to polling)."""
        await stop_task(self._task)
        self._task = None
        if self._redis is not None:
            with contextlib.suppress(Exception):
                await self._redis.aclose()
            self._redis = None
        self._connected = False
        self._wake_all()

    @contextlib.contextmanager
    def watch(self, topics: Iterable[str]) -> Iterator[Watch]:
        """Subscribe for the block; register before reading so no change slips between."""
        watch = Watch(frozenset(topics))
        for topic in watch.topics:
            self._watches.setdefault(topic, set()).add(watch)
        try:
            yield watch
        finally:
            for topic in watch.topics:
                watchers = self._watches.get(topic)
                if watchers is not None:
                    watchers.discard(watch)
                    if not watchers:
                        del self._watches[topic]

    def wake(self, topics: Iterable[str]) -> None:
        """Wake this worker's streams that watch any of `topics`."""
        for topic in topics:
            for watch in self._watches.get(topic, ()):
                watch.event.set()

    def _wake_all(self) -> None:
        for watchers in self._watches.values():
            for watch in watchers:
                watch.event.set()

    async def publish(self, topics: Iterable[str]) -> None:
        """Tell every worker that `topics` changed (call after the change committed).

        On PostgreSQL the writing transaction already sent the NOTIFY; here the
        worker's own streams are woken at once and, in Redis mode, the others.
        """
        topics = list(topics)
        self.wake(topics)
        if self.mode != "redis" or self._redis is None:
            return
        try:
            for topic in topics:
                await self._redis.publish(CHANNEL, topic)
        except Exception as exc:
            self._warn(f"could not publish a handoff wake-up to Redis ({exc!r})")

    def _warn(self, message: str) -> None:
        now = time.monotonic()
        if now - self._warned_at >= _WARN_EVERY_S:
            self._warned_at = now
            logger.warning(
                "%s; streams read the database every %.1f s meanwhile", message, self.poll_s
            )

    def _connected_now(self) -> None:
        self._connected = True
        # Whatever happened while disconnected: every stream reads the database again.
        self._wake_all()

    def _disconnected(self, exc: BaseException) -> None:
        was = self._connected
        self._connected = False
        if was:
            self._wake_all()
        self._warn(f"handoff wake-ups ({self.mode}) are not arriving ({exc!r})")

    async def _listen_postgres(self) -> None:
        import psycopg

        conninfo = libpq_url(self.database_url)
        attempt = 0
        while True:
            try:
                conn = await psycopg.AsyncConnection.connect(conninfo, autocommit=True)
                async with conn:
                    await conn.execute(f"LISTEN {CHANNEL}")
                    self._connected_now()
                    attempt = 0
                    async for notify in conn.notifies():
                        self.wake((notify.payload,))
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self._disconnected(exc)
            await asyncio.sleep(_RECONNECT_S[min(attempt, len(_RECONNECT_S) - 1)])
            attempt += 1

    async def _listen_redis(self) -> None:
        import redis.asyncio as aioredis

        attempt = 0
        while True:
            client = aioredis.from_url(str(self.redis_url), socket_connect_timeout=2)
            try:
                pubsub = client.pubsub()
                await pubsub.subscribe(CHANNEL)
                self._redis = client
                self._connected_now()
                attempt = 0
                async for message in pubsub.listen():
                    if message.get("type") != "message":
                        continue
                    data = message.get("data")
                    topic = data.decode() if isinstance(data, bytes) else str(data)
                    self.wake((topic,))
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self._disconnected(exc)
            finally:
                if self._redis is client:
                    self._redis = None
                with contextlib.suppress(Exception):
                    await client.aclose()
            await asyncio.sleep(_RECONNECT_S[min(attempt, len(_RECONNECT_S) - 1)])
            attempt += 1
