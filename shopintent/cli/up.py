"""`shopintent up`: the main command behind `make run`.

It validates `training_data/`, trains the default model if there is none, seeds
the shop database if it is empty, then runs the action server and the bot as
child processes until Ctrl-C, which stops both cleanly.
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType

from core.paths import ARTIFACT_FILE
from shopintent.cli.common import DEFAULT_DATA, DEFAULT_MODEL, DEFAULT_RECS, Subparsers, add_command

STOP_GRACE_S = 10.0
START_TIMEOUT_S = 180.0


class _Stop(Exception):
    """SIGTERM arrived: shut down like Ctrl-C."""


def register(sub: Subparsers) -> None:
    """Add the `up` command."""
    p = add_command(sub, run_up)
    p.add_argument("--data", type=Path, default=DEFAULT_DATA, help="training data folder")
    p.add_argument("--model", type=Path, default=DEFAULT_MODEL, help="model folder to serve")
    p.add_argument("--host", default="127.0.0.1", help="interface the bot binds (127.0.0.1)")
    p.add_argument("--port", type=int, default=5005, help="the bot's port (5005)")
    p.add_argument("--actions-port", type=int, default=5055, help="the action server's port (5055)")


def run_up(args: argparse.Namespace) -> int:
    """Validate the data, train the default model if missing, start the service.

    The main command: validates training_data/, trains models/default if it is missing, seeds the
    shop database if it is empty, starts the action server and the bot, and prints the URL to open.
    Ctrl-C stops everything. SHOPINTENT_DATABASE_URL and SHOPINTENT_WEBHOOK_TOKEN (server-to-server
    callers), SHOPINTENT_IDENTITY_SECRET and SHOPINTENT_ACTIONS_SECRET (both generated for this run
    when unset) are honoured.
    """
    from nlu.validate import print_report, validate_path

    report = validate_path(args.data)
    print_report(report)
    if not report.ok:
        return 1
    ensure_model(args.data, args.model)
    ensure_database()
    ensure_recommender(Path(os.environ.get("SHOPINTENT_RECS_DIR") or DEFAULT_RECS))
    return serve_all(args.host, args.port, args.actions_port, args.model)


def ensure_model(data: Path, model: Path) -> None:
    """Train `model` from `data` with the nlu training API if it holds no model yet."""
    if (model / ARTIFACT_FILE).is_file():
        print(f"model: {model} (already trained)", flush=True)
        return
    from nlu import TrainConfig, train

    print(f"model: {model} is missing; training it from {data} (a few minutes on a CPU) ...")
    train(TrainConfig(data=[str(data)], output_dir=str(model)))
    print(f"model: trained and saved to {model}", flush=True)


def ensure_recommender(model: Path) -> None:
    """Train the personal recommender from the store's orders and events if it is missing.

    Seconds on the demo store. A failure is reported and the service still starts:
    recommendations then fall back to the shop-wide ones.
    """
    if (model / "recs.json").is_file():
        print(f"recommender: {model} (already trained)", flush=True)
        return
    from actions.store import resolve_url
    from recs import RecsConfig, RecsError, load_interactions, train

    print(f"recommender: {model} is missing; training it from the store ...", flush=True)
    try:
        interactions = load_interactions(database_url=resolve_url(None))
        train(interactions, RecsConfig(), model)
    except RecsError as exc:
        print(f"recommender: not trained ({exc}); using shop-wide picks", flush=True)
        return
    print(f"recommender: trained and saved to {model}", flush=True)


def ensure_database() -> None:
    """Create and seed the shop database (SHOPINTENT_DATABASE_URL) if it is empty."""
    from actions.store import ensure_seeded, resolve_url

    url = resolve_url(None)
    seeded = ensure_seeded(url)
    shown = url.split("@")[-1] if "@" in url else url
    print(f"database: {shown} ({'seeded now' if seeded else 'already seeded'})", flush=True)


def _spawn(cmd: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    # A session of their own: the children get our stop signal in the order we choose.
    return subprocess.Popen(cmd, env=env, start_new_session=True)


def _wait_ready(url: str, procs: list[subprocess.Popen[bytes]], timeout_s: float) -> bool:
    import httpx

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if any(p.poll() is not None for p in procs):
            return False
        try:
            if httpx.get(url, timeout=2.0).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    return False


def stop(procs: list[subprocess.Popen[bytes]]) -> None:
    """Stop child processes: SIGTERM, then SIGKILL after a grace period."""
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE_S
    for proc in procs:
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def pair_environment(env: dict[str, str]) -> dict[str, str]:
    """The environment of the bot and action server pair, with the secrets it lacks.

    Without a configured `SHOPINTENT_ACTIONS_SECRET`, one is generated for this pair
    only, so the action server never accepts unsigned calls. In development a missing
    `SHOPINTENT_IDENTITY_SECRET` is generated too, so the demo page can sign a demo
    shopper in (the shop's own backend needs the configured one).
    """
    env.setdefault("TOKENIZERS_PARALLELISM", "false")
    if not env.get("SHOPINTENT_ACTIONS_SECRET", "").strip():
        env["SHOPINTENT_ACTIONS_SECRET"] = secrets.token_hex(32)
        print("actions: calls signed with a secret generated for this run", flush=True)
    production = env.get("SHOPINTENT_ENV", "").strip().lower() == "production"
    if not production and not env.get("SHOPINTENT_IDENTITY_SECRET", "").strip():
        env["SHOPINTENT_IDENTITY_SECRET"] = secrets.token_hex(32)
        print("sign-in: demo tokens only (identity secret generated for this run)", flush=True)
    return env


def serve_all(host: str, port: int, actions_port: int, model: Path) -> int:
    """Run the action server and the bot until Ctrl-C/SIGTERM or until one of them exits.

    Returns:
        0 after Ctrl-C/SIGTERM, else the exit code of the child that stopped first.
    """
    env = pair_environment(dict(os.environ))
    actions_cmd = [
        sys.executable, "-m", "shopintent", "actions",
        "--host", "127.0.0.1", "--port", str(actions_port),
    ]  # fmt: skip
    bot_cmd = [
        sys.executable, "-m", "shopintent", "serve",
        "--host", host, "--port", str(port), "--model", str(model),
        "--action-endpoint", f"http://127.0.0.1:{actions_port}/webhook",
    ]  # fmt: skip

    def on_term(_signum: int, _frame: FrameType | None) -> None:
        raise _Stop

    previous = signal.signal(signal.SIGTERM, on_term)
    # Explicitly: a process started in the background of a script inherits SIGINT ignored.
    previous_int = signal.signal(signal.SIGINT, on_term)
    procs: list[subprocess.Popen[bytes]] = []
    try:
        procs.append(_spawn(actions_cmd, env))
        if not _wait_ready(f"http://127.0.0.1:{actions_port}/health", procs, START_TIMEOUT_S):
            print("error: the action server did not start; see its output above", file=sys.stderr)
            return 1
        procs.append(_spawn(bot_cmd, env))
        shown_host = "localhost" if host in ("127.0.0.1", "0.0.0.0") else host
        if not _wait_ready(f"http://127.0.0.1:{port}/ready", procs, START_TIMEOUT_S):
            print("error: the bot did not become ready; see its output above", file=sys.stderr)
            return 1
        print(
            f"\nshopintent is up: open http://{shown_host}:{port}/  (Ctrl-C stops)\n"
            f"  webhook  http://{shown_host}:{port}/webhooks/rest/webhook\n"
            f"  actions  http://127.0.0.1:{actions_port}/webhook",
            flush=True,
        )
        names = ["the action server", "the bot"]
        while True:
            for name, proc in zip(names, procs, strict=True):
                code = proc.poll()
                if code is not None:
                    print(f"error: {name} exited with {code}", file=sys.stderr)
                    return code or 1
            time.sleep(0.5)
    except (KeyboardInterrupt, _Stop):
        print("\nstopping ...", flush=True)
        return 0
    finally:
        # A second Ctrl-C (or a supervisor's repeated signal) must not cut the shutdown short.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stop(list(reversed(procs)))
        signal.signal(signal.SIGINT, previous_int)
        signal.signal(signal.SIGTERM, previous)
