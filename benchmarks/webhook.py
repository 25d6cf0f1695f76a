"""Benchmark the chat webhook: N concurrent simulated shoppers over loopback.

Each shopper opens a conversation the way the widget does (`POST
/webhooks/rest/session`, not timed) and holds a short one: greet, ask for an order,
give the number of a real order in the store, give its e-mail (the guest's proof),
ask about returns, thank. The script prints p50/p95/p99 latency, throughput and
errors, then reads the stored transcript (e-mails redacted) and checks that no turn
was lost or reordered. It rewrites the `webhook` section of docs/benchmarks.md.

By default it starts its own stack (`shopintent actions` on a seeded SQLite copy and
`shopintent serve`, sharing a generated SHOPINTENT_ACTIONS_SECRET), so nothing else
needs to run. With `--database-url` of a PostgreSQL database both servers share a fresh
schema in it (seeded, dropped afterwards), `--workers` starts that many bot processes,
and `--redis-url` makes them share the rate limit counters:

    .venv/bin/python benchmarks/webhook.py --model models/default
    .venv/bin/python benchmarks/webhook.py --workers 2 --database-url postgresql://127.0.0.1:5432/test
    .venv/bin/python benchmarks/webhook.py --url http://127.0.0.1:5005 --database-url sqlite:///shopintent.db
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import platform
import random
import re
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import httpx

from core.paths import ARTIFACT_FILE

REPO = Path(__file__).resolve().parents[1]
DOC = REPO / "docs" / "benchmarks.md"
BEGIN, END = "<!-- begin:webhook -->", "<!-- end:webhook -->"


@dataclass
class Shopper:
    """One simulated shopper and what happened to their messages."""

    script: list[str]
    sender: str = ""  # the conversation id the bot issued (`POST /webhooks/rest/session`)
    latencies_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def conversation(number: str, email: str, direct: bool = False) -> list[str]:
    """The messages one shopper sends, in order.

    Args:
        number: A real order number (`SI...`) in the bot's store.
        email: That order's e-mail, which a guest gives to prove the order.
        direct: Button payloads (`/intent`, no model) for every turn but the e-mail,
            which is always typed: a payload cannot set it.
    """
    if direct:
        return ["/greet", "/track_order", f"/track_order{{\"order_id\": \"{number}\"}}",
                email, "/check_refund_policy", "/thank_you"]  # fmt: skip
    return ["hi", "where is my order?", number, email, "can I return it?", "thanks"]


def free_port() -> int:
    """Return a free TCP port on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_ok(url: str, proc: subprocess.Popen[bytes], timeout_s: float = 180) -> None:
    """Wait until `url` answers 200, or fail if the process died."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"error: server for {url} exited with {proc.returncode}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"error: {url} did not become ready in {timeout_s:.0f}s")


@dataclass(frozen=True)
class Stack:
    """What the benchmark ran against, for the report."""

    url: str  # the bot's base URL
    database_url: str  # the database holding the transcript (and the shop, for our own stack)
    database: str  # e.g. "PostgreSQL 16.4 (schema shopintent_bench_1a2b3c4d5e)"
    workers: int | None  # bot worker processes (None: a running bot, not known)
    rate_limits: str  # where the per-conversation counters live


def describe_database(database_url: str) -> str:
    """Name the database kind and, for PostgreSQL, the server's version."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    if make_url(database_url).get_backend_name() != "postgresql":
        return "SQLite (WAL)"
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            version = str(conn.execute(text("SHOW server_version")).scalar_one()).split()[0]
    finally:
        engine.dispose()
    return f"PostgreSQL {version}"


@contextmanager
def fresh_schema(database_url: str) -> Iterator[str]:
    """Create a schema of its own in a PostgreSQL database; drop it (and its rows) after.

    Several runs (or other users) can share the database: the benchmark's tables, shop
    and transcript live in the new schema only, so the transcript check stays exact.

    Yields:
        The URL with `search_path` set to the new schema.
    """
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import SQLAlchemyError

    url = make_url(database_url)
    schema = f"shopintent_bench_{secrets.token_hex(5)}"
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except SQLAlchemyError as exc:
        engine.dispose()
        raise SystemExit(
            f"error: could not create a schema in {url.render_as_string()} "
            f"({type(exc).__name__}: {str(exc).splitlines()[0]}); expected a running "
            "PostgreSQL whose user may CREATE SCHEMA in that database"
        ) from exc
    given = url.query.get("options")
    options = " ".join(
        o for o in (given if isinstance(given, str) else "", f"-csearch_path={schema}") if o
    )
    print(f"schema {schema} in {url.render_as_string()}", file=sys.stderr, flush=True)
    try:
        yield url.update_query_dict({"options": options}).render_as_string(hide_password=False)
    finally:
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        engine.dispose()


@contextmanager
def own_stack(
    model: Path, workers: int, database_url: str | None = None, redis_url: str | None = None
) -> Iterator[Stack]:
    """Start the action server and the bot on a fresh seeded store.

    The store is a new SQLite file, or a new schema of the PostgreSQL database at
    `database_url` (any other URL is used as it is); both servers use it through
    SHOPINTENT_DATABASE_URL. The pair shares a generated SHOPINTENT_ACTIONS_SECRET
    (signed action calls) and has no webhook token: shoppers use conversation ids the
    bot issues, as browsers do.
    """
    from sqlalchemy.engine import make_url

    if not (model / ARTIFACT_FILE).is_file():
        raise SystemExit(
            f"error: no trained model in {model}; run `shopintent train --output {model}` "
            "or pass --model / --url"
        )
    if database_url is None:
        tmp = tempfile.mkdtemp(prefix="shopintent-bench-")
        with _stack(model, workers, f"sqlite:///{tmp}/bench.db", "a new file", redis_url) as stack:
            yield stack
    elif make_url(database_url).get_backend_name() == "postgresql":
        with (
            fresh_schema(database_url) as db_url,
            _stack(model, workers, db_url, "a fresh schema, dropped after", redis_url) as stack,
        ):
            yield stack
    else:
        with _stack(model, workers, database_url, "as given", redis_url) as stack:
            yield stack


@contextmanager
def _stack(
    model: Path, workers: int, db_url: str, where: str, redis_url: str | None
) -> Iterator[Stack]:
    from actions.store import ensure_seeded, get_engine

    ensure_seeded(db_url)
    database = f"{describe_database(db_url)} ({where})"
    rate_limits = "Redis, shared by the workers" if redis_url else "in each worker process"
    print(
        f"stack: {workers} bot worker(s), {database}, rate limits {rate_limits}",
        file=sys.stderr,
        flush=True,
    )
    actions_port, bot_port = free_port(), free_port()
    env = {
        **os.environ,
        "SHOPINTENT_DATABASE_URL": db_url,
        "SHOPINTENT_AUTO_SEED": "false",  # seeded above, once
        "SHOPINTENT_REDIS_URL": redis_url or "",
        "SHOPINTENT_WEBHOOK_TOKEN": "",
        "SHOPINTENT_ACTIONS_SECRET": secrets.token_hex(32),
        # Every simulated shopper comes from 127.0.0.1: per-address limits would
        # measure the limiter, not the bot (the per-conversation limit stays).
        "SHOPINTENT_CLIENT_RATE_LIMIT": "",
        "SHOPINTENT_SESSION_RATE_LIMIT": "",
    }
    logs = Path(tempfile.mkdtemp(prefix="shopintent-bench-logs-"))
    print(f"server logs: {logs}", file=sys.stderr, flush=True)
    with (logs / "actions.log").open("wb") as log:
        actions = subprocess.Popen(
            [sys.executable, "-m", "shopintent", "actions", "--host", "127.0.0.1",
             "--port", str(actions_port)],
            env=env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    with (logs / "bot.log").open("wb") as log:
        bot = subprocess.Popen(
            [sys.executable, "-m", "shopintent", "serve", "--port", str(bot_port),
             "--model", str(model), "--workers", str(workers),
             "--action-endpoint", f"http://127.0.0.1:{actions_port}/webhook"],
            env=env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        wait_ok(f"http://127.0.0.1:{actions_port}/health", actions)
        wait_ok(f"http://127.0.0.1:{bot_port}/ready", bot)
        yield Stack(f"http://127.0.0.1:{bot_port}", db_url, database, workers, rate_limits)
    finally:
        for proc in (bot, actions):
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        get_engine(db_url).dispose()


async def run_shopper(
    client: aiohttp.ClientSession,
    url: str,
    shopper: Shopper,
    think: tuple[float, float],
    rng: random.Random,
) -> None:
    """Send the shopper's messages one after the other, waiting for each answer."""
    await asyncio.sleep(rng.uniform(0, think[1]))  # shoppers do not all arrive at once
    for text in shopper.script:
        started = time.perf_counter()
        try:
            async with client.post(
                url, json={"sender": shopper.sender, "message": text}
            ) as response:
                body = await response.text()
            ok = response.status == 200 and body.startswith("[")
            if not ok:
                shopper.errors.append(f"HTTP {response.status}: {body[:100]}")
        except (aiohttp.ClientError, TimeoutError) as exc:
            shopper.errors.append(repr(exc))
        shopper.latencies_ms.append((time.perf_counter() - started) * 1000)
        await asyncio.sleep(rng.uniform(*think))


async def open_session(client: aiohttp.ClientSession, url: str, shopper: Shopper) -> None:
    """Get the shopper a conversation id from the bot, as the widget does."""
    async with client.post(f"{url}/webhooks/rest/session", json={}) as response:
        body = await response.text()
    if response.status != 200:
        raise SystemExit(
            f"error: POST {url}/webhooks/rest/session answered HTTP {response.status} "
            f"({body[:200]}); expected 200 with a `sender`. A wrong --token is 401."
        )
    shopper.sender = str(json.loads(body)["sender"])


async def load(
    url: str, shoppers: list[Shopper], think: tuple[float, float], token: str | None
) -> float:
    """Open every shopper's conversation, then run them concurrently; return the wall time.

    Only the conversations are timed, not opening them.
    """
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    # The client is aiohttp, not httpx: the load generator shares the 2 cores with the
    # servers it measures, and httpx spent 4.5 ms of CPU per turn to aiohttp's ~1 ms.
    # Idle connections are forgotten (2 s) well before the bot closes them (30 s).
    connector = aiohttp.TCPConnector(limit=len(shoppers) + 10, keepalive_timeout=2.0)
    rng = random.Random(7)
    async with aiohttp.ClientSession(
        connector=connector, headers=headers, timeout=aiohttp.ClientTimeout(total=60)
    ) as client:
        await asyncio.gather(*(open_session(client, url, s) for s in shoppers))
        # A full collection walks everything this process imported and stalls all 50
        # shoppers at once (~100 ms here), which would be timed as the bot's latency.
        gc.collect()
        gc.freeze()
        started = time.perf_counter()
        await asyncio.gather(
            *(run_shopper(client, f"{url}/webhooks/rest/webhook", s, think, rng) for s in shoppers)
        )
        return time.perf_counter() - started


def check_transcript(database_url: str, shoppers: list[Shopper]) -> tuple[int, int, list[float]]:
    """Compare the stored transcript with what was sent (redacted, as the bot stores it).

    Returns:
        Turns lost, conversations reordered, and the server-side latencies stored per turn.
    """
    from bot.store import TranscriptStore
    from privacy import redact

    store = TranscriptStore(database_url)
    lost = reordered = 0
    server_ms: list[float] = []
    for shopper in shoppers:
        turns = store.turns(shopper.sender)
        server_ms.extend(float(t["latency_ms"]) for t in turns)
        stored = [t["text"] for t in turns]
        sent = [redact(m) for m in shopper.script]
        lost += max(0, len(sent) - len(stored))
        if stored != sent[: len(stored)] or [t["seq"] for t in turns] != list(
            range(1, len(turns) + 1)
        ):
            reordered += 1
    store.dispose()
    return lost, reordered, server_ms


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100) with linear interpolation."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * q / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def write_doc(table: str) -> None:
    """Replace the webhook section of docs/benchmarks.md (creating file or markers)."""
    section = f"{BEGIN}\n{table}\n{END}"
    text = DOC.read_text(encoding="utf-8") if DOC.is_file() else "# Benchmarks\n"
    if BEGIN in text and END in text:
        text = re.sub(
            re.escape(BEGIN) + r".*?" + re.escape(END), lambda _m: section, text, flags=re.S
        )
    else:
        text = text.rstrip("\n") + "\n\n## Chat webhook\n\n" + section + "\n"
    DOC.parent.mkdir(parents=True, exist_ok=True)
    DOC.write_text(text, encoding="utf-8")


@dataclass
class Phase:
    """One load run and its results."""

    name: str
    shoppers: list[Shopper]
    wall_s: float = 0.0
    lost: int = 0
    reordered: int = 0
    server_ms: list[float] = field(default_factory=list)
    load: tuple[float, float] = (0.0, 0.0)

    @property
    def latencies(self) -> list[float]:
        return [ms for s in self.shoppers for ms in s.latencies_ms]

    @property
    def errors(self) -> int:
        return sum(len(s.errors) for s in self.shoppers)

    def column(self) -> list[str]:
        lat = self.latencies
        return [
            f"{len(lat)}",
            f"{self.errors}",
            f"{self.lost}",
            f"{self.reordered}",
            f"{percentile(lat, 50):.1f} ms",
            f"{percentile(lat, 95):.1f} ms",
            f"{percentile(lat, 99):.1f} ms",
            f"{statistics.fmean(lat):.1f} / {max(lat):.1f} ms",
            f"{percentile(self.server_ms, 50):.1f} / {percentile(self.server_ms, 99):.1f} ms",
            f"{len(lat) / self.wall_s:.1f} turns/s ({self.wall_s:.1f} s)",
            f"{self.load[0]:.1f} / {self.load[1]:.1f}",
        ]


ROW_NAMES = [
    "turns sent",
    "errors",
    "turns lost (not stored)",
    "conversations reordered",
    "latency p50",
    "latency p95",
    "latency p99",
    "latency mean / max",
    "server-side p50 / p99 (stored `latency_ms`)",
    "throughput",
    "load average before / after",
]


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the results table."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--shoppers", type=int, default=50, help="concurrent shoppers (50)")
    parser.add_argument("--think-ms", default="500-1500",
                        help="pause between a shopper's messages, ms, 'lo-hi' (500-1500; 0 = none)")  # fmt: skip
    parser.add_argument("--url", help="a running bot (default: start one)")
    parser.add_argument("--database-url",
                        help="own stack: a PostgreSQL database to run in (a fresh schema, dropped "
                             "after; default a new SQLite file); with --url: the bot's database, "
                             "to check the transcript (default SHOPINTENT_DATABASE_URL)")  # fmt: skip
    parser.add_argument("--redis-url",
                        help="own stack: Redis for the rate limit counters, shared by the workers "
                             "(SHOPINTENT_REDIS_URL; default each worker counts alone)")  # fmt: skip
    parser.add_argument(
        "--model", type=Path, default=REPO / "models" / "default", help="model to serve"
    )
    parser.add_argument("--workers", type=int, default=None,
                        help="own stack: bot worker processes, `shopintent serve --workers` (1); "
                             "with --url: how many the bot runs, for the report")  # fmt: skip
    parser.add_argument("--token", default=os.environ.get("SHOPINTENT_WEBHOOK_TOKEN"),
                        help="webhook token of the bot at --url, if it has one (not sent to "
                             "the benchmark's own stack)")  # fmt: skip
    parser.add_argument("--no-doc", action="store_true", help="do not rewrite docs/benchmarks.md")
    parser.add_argument("--typed-only", action="store_true",
                        help="skip the second run with /intent payloads (model only for the "
                             "e-mail)")  # fmt: skip
    args = parser.parse_args(argv)
    lo, _, hi = args.think_ms.partition("-")
    think = (float(lo) / 1000, float(hi or lo) / 1000)

    from core import db

    if args.workers is not None and args.workers < 1:
        parser.error(f"--workers must be at least 1, not {args.workers}")

    phases: list[Phase] = []
    token = None if args.url is None else args.token
    stack_cm = (
        own_stack(
            args.model,
            args.workers or 1,
            db.database_url(args.database_url) if args.database_url else None,
            args.redis_url,
        )
        if args.url is None
        else _given(args)
    )
    with stack_cm as stack:
        from actions.store import list_orders

        url, db_url = stack.url, stack.database_url

        orders = [(o.id, o.email) for o in list_orders(db_url, limit=max(1, args.shoppers))]
        if not orders:
            raise SystemExit(
                f"error: the store at {db_url} has no orders; run `shopintent db seed`"
            )
        ready = httpx.get(f"{url}/ready", timeout=10).json()
        model = f"`{ready.get('model_version', 'unknown')}`"
        if ready.get("nlu_backend"):
            model += f" ({ready['nlu_backend']})"
        kinds = [("typed messages (model)", False)]
        if not args.typed_only:
            kinds.append(("button payloads (e-mail typed)", True))
        for name, direct in kinds:
            phase = Phase(
                name,
                [
                    Shopper(conversation(*orders[i % len(orders)], direct=direct))
                    for i in range(args.shoppers)
                ],
            )
            before = os.getloadavg()[0]
            phase.wall_s = asyncio.run(load(url, phase.shoppers, think, token))
            phase.load = (before, os.getloadavg()[0])
            phase.lost, phase.reordered, phase.server_ms = check_transcript(db_url, phase.shoppers)
            phases.append(phase)

    columns = [p.column() for p in phases]
    header = "| measure | " + " | ".join(p.name for p in phases) + " |"
    lines = [header, "|---" * (len(phases) + 1) + "|"]
    lines += [
        f"| {name} | " + " | ".join(col[k] for col in columns) + " |"
        for k, name in enumerate(ROW_NAMES)
    ]
    # Placeholders: the report names no real order number or e-mail.
    script = " → ".join(f"`{m}`" for m in conversation("<order number>", "<its e-mail>"))
    table = "\n".join(lines) + (
        f"\n\n{args.shoppers} concurrent shoppers, each {script} with "
        f"{args.think_ms} ms between turns; bot workers: {stack.workers or 'not known'}; "
        f"database: {stack.database}; rate limits: {stack.rate_limits}; model {model}; "
        f"{os.cpu_count()} CPU cores ({platform.machine()}, Python "
        f"{platform.python_version()}), shared with other jobs (see the load average). "
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC with `python benchmarks/webhook.py "
        f"{' '.join(argv if argv is not None else sys.argv[1:])}`. Latency is end to end as the "
        "client sees it over loopback (classifier, dialogue, signed action-server call, "
        "transcript write); each conversation id came from `POST /webhooks/rest/session` "
        "(not timed), and the number is a real order's, proved with its e-mail; every stored "
        "turn was compared with what was sent. The second column sends button payloads "
        "(`/intent`), which skip the model, for every turn but the typed e-mail: close to "
        "the cost of everything else."
    )
    print(table)
    for phase in phases:
        for shopper in phase.shoppers:
            for error in shopper.errors[:1]:
                print(f"error ({shopper.sender}): {error}", file=sys.stderr)
    if not args.no_doc:
        write_doc(table)
        print(f"\nwrote the webhook section of {DOC.relative_to(REPO)}")
    return 1 if any(p.errors or p.lost or p.reordered for p in phases) else 0


@contextmanager
def _given(args: argparse.Namespace) -> Iterator[Stack]:
    from core import db

    database_url = args.database_url or os.environ.get("SHOPINTENT_DATABASE_URL")
    if not database_url:
        raise SystemExit("error: with --url, pass --database-url so the transcript can be checked")
    database_url = db.database_url(database_url)
    yield Stack(
        args.url.rstrip("/"),
        database_url,
        describe_database(database_url),
        args.workers,
        "as the bot at --url has them",
    )


if __name__ == "__main__":
    raise SystemExit(main())
