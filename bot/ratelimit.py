"""Rate limits of the webhook, per conversation and per client address (`limits` package).

Three rules, each a `limits` string such as `30/minute` (several: `30/minute;500/hour`):

- `conversation`: messages per conversation (sender id), for every caller;
- `client`: messages per client address, for browsers (callers without the webhook token);
- `session`: new conversation ids per client address, for browsers.

Counters live in Redis when `SHOPINTENT_REDIS_URL` is set, so every worker process and
every bot instance shares them; otherwise each process counts in its own memory
(`LocalWindows`: a deque of hit times per key, pruned as it is read; `limits`' own
asyncio memory store sends every key through a worker thread each time it expires
events, which took 8 % of the bot's CPU at 20 turns per second). Client
addresses are counted under a keyed hash (`bot.identity.client_ref`), never in the clear.
A limit that is hit raises `RateLimitedError` (429 with `Retry-After`). When Redis does
not answer, messages go through and a warning is logged: a rate limit is a guard, not a
reason to drop shoppers' messages.
"""

from __future__ import annotations

import logging
import math
import time
from collections import deque
from typing import Literal

from limits import RateLimitItem, parse_many
from limits.aio.storage import RedisStorage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError

from bot.errors import RateLimitedError

logger = logging.getLogger(__name__)

Rule = Literal["conversation", "client", "session", "events"]
KEY_PREFIX = "shopintent"
_WARN_EVERY_S = 60.0

_WHAT: dict[Rule, str] = {
    "conversation": "messages in this conversation",
    "client": "messages from this address",
    "session": "new conversations from this address",
}


def parse_limit(value: str | None, setting: str) -> list[RateLimitItem]:
    """Parse a rate limit setting (`30/minute`, `30/minute;500/hour`); empty means no limit.

    Raises:
        ValueError: The value is not `limits` notation; the message names the setting.
    """
    if value is None or not value.strip():
        return []
    try:
        return parse_many(value)
    except ValueError as exc:
        raise ValueError(
            f"expected {setting} to be a rate limit like '30/minute' or '30/minute;500/hour' "
            f"(empty: no limit), found {value!r}"
        ) from exc


def _describe(item: RateLimitItem) -> str:
    per = (
        item.GRANULARITY.name
        if item.multiples == 1
        else f"{item.multiples} {item.GRANULARITY.name}s"
    )
    return f"{item.amount} per {per}"


class LocalWindows:
    """Moving-window counters in this process: the hit times of each key, newest last.

    `hit` drops the hits older than the window before counting, so a key's deque never
    holds more than the limit; keys whose hits all expired are dropped every
    `SWEEP_EVERY` hits, so memory follows the active keys only.
    """

    SWEEP_EVERY = 1000

    def __init__(self) -> None:
        self._hits: dict[str, deque[float]] = {}
        self._windows: dict[str, float] = {}
        self._count = 0

    def hit(self, item: RateLimitItem, key: str) -> float | None:
        """Count a hit; return None when allowed, else the time the oldest hit expires."""
        now = time.monotonic()
        self._count += 1
        if self._count % self.SWEEP_EVERY == 0:
            self._sweep(now)
        window = float(item.get_expiry())
        name = item.key_for(key)
        hits = self._hits.setdefault(name, deque())
        self._windows[name] = window
        while hits and hits[0] <= now - window:
            hits.popleft()
        if len(hits) >= item.amount:
            return time.time() + (hits[0] + window - now)
        hits.append(now)
        return None

    def _sweep(self, now: float) -> None:
        for name in [n for n, h in self._hits.items() if not h or h[-1] <= now - self._windows[n]]:
            self._hits.pop(name, None)
            self._windows.pop(name, None)


class RateLimiter:
    """Counts hits per rule and key in a moving window; create it inside the event loop.

    Args:
        rules: The limits of each rule (an empty list: that rule is off).
        redis_url: `redis://host:port/db` (or `rediss://`); None counts in this process.

    >>> limiter = RateLimiter({"conversation": parse_limit("30/minute", "x")})  # doctest: +SKIP
    >>> await limiter.hit("conversation", sender)  # doctest: +SKIP
    """

    def __init__(
        self, rules: dict[Rule, list[RateLimitItem]], redis_url: str | None = None
    ) -> None:
        self.rules = rules
        self._pool = None
        self._local: LocalWindows | None = None
        self._strategy: MovingWindowRateLimiter | None = None
        if redis_url:
            import redis.asyncio

            self._pool = redis.asyncio.ConnectionPool.from_url(
                redis_url, socket_timeout=1.0, socket_connect_timeout=1.0
            )
            storage = RedisStorage(
                "async+redis://",
                implementation="redispy",
                key_prefix=KEY_PREFIX,
                wrap_exceptions=True,
                connection_pool=self._pool,  # type: ignore[arg-type]  # typed too narrowly
            )
            self._strategy = MovingWindowRateLimiter(storage)
        else:
            self._local = LocalWindows()
        self.shared = redis_url is not None
        self._warned_at = -math.inf

    async def hit(self, rule: Rule, key: str | None) -> None:
        """Count one hit of `key` under `rule`.

        Raises:
            RateLimitedError: One of the rule's limits is used up; says when to retry.
        """
        if not key:
            return
        for item in self.rules.get(rule, []):
            if self._local is not None:
                reset = self._local.hit(item, f"{rule}/{key}")
                if reset is None:
                    continue
            else:
                assert self._strategy is not None
                try:
                    if await self._strategy.hit(item, rule, key):
                        continue
                    reset = (await self._strategy.get_window_stats(item, rule, key)).reset_time
                except StorageError as exc:
                    self._warn(exc)
                    return
            retry_after = max(1, math.ceil(reset - time.time()))
            raise RateLimitedError(
                f"too many {_WHAT[rule]}: the limit is {_describe(item)}; wait {retry_after} s "
                "(the Retry-After header) and send it again",
                retry_after_s=retry_after,
            )

    def _warn(self, exc: Exception) -> None:
        now = time.monotonic()
        if now - self._warned_at >= _WARN_EVERY_S:
            self._warned_at = now
            logger.warning(
                "rate limits are not enforced: the rate limit store (SHOPINTENT_REDIS_URL) "
                "failed (%s); messages go through unlimited until it answers again",
                exc,
            )

    async def aclose(self) -> None:
        """Close the Redis connections, if any."""
        if self._pool is not None:
            await self._pool.disconnect()
