"""`shopintent serve` (the bot's web server) and `shopintent chat` (a terminal client).

`serve` builds the bot's settings from its flags over the `SHOPINTENT_*` environment
and hands them to `bot.app.create_app` itself, in every worker process: no flag
travels through the environment.
"""

from __future__ import annotations

import argparse
import functools
import os
import secrets
from pathlib import Path
from typing import TYPE_CHECKING

from shopintent.cli.common import Subparsers, add_command, add_database_url, add_model

if TYPE_CHECKING:
    from bot.settings import BotSettings

# `serve` flag (its dest) -> the `BotSettings` field it sets.
SETTING_FLAGS = {
    "model": "model_dir",
    "domain": "domain_path",
    "policy": "policy_path",
    "database_url": "database_url",
    "action_endpoint": "action_endpoint",
    "token": "webhook_token",
}


def register(sub: Subparsers) -> None:
    """Add the `serve` and `chat` commands."""
    serve = add_command(sub, run_serve)
    serve.add_argument("--host", default=None, help="interface to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=None, help="port (default 5005)")
    serve.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    add_model(serve, help="model folder (models/default)")
    serve.add_argument("--domain", type=Path, default=None, help="domain.yml path")
    serve.add_argument("--policy", type=Path, default=None, help="policy.yml path")
    add_database_url(serve, help="SQLAlchemy URL of the store", default=None)
    serve.add_argument("--action-endpoint", default=None, help="action server webhook URL")
    serve.add_argument("--token", default=None, help="require this webhook token")
    serve.add_argument("--log-level", default="warning", help="uvicorn log level")

    chat = add_command(sub, run_chat)
    chat.add_argument("--url", default="http://127.0.0.1:5005", help="the bot's base URL")
    chat.add_argument(
        "--sender",
        default=None,
        help="conversation id (needs --token; default: a new conversation from the bot)",
    )
    chat.add_argument("--token", default=os.environ.get("SHOPINTENT_WEBHOOK_TOKEN"), help="token")


def serve_settings(args: argparse.Namespace) -> BotSettings:
    """The bot's settings: the `SHOPINTENT_*` environment, overridden by the flags given."""
    from bot.settings import BotSettings

    given = {
        field: value
        for flag, field in SETTING_FLAGS.items()
        if (value := getattr(args, flag, None)) is not None
    }
    return BotSettings(**given)


def run_serve(args: argparse.Namespace) -> int:
    """Run the bot only (REST webhook, widget, demo page).

    Serve the bot with uvicorn: Rasa's REST channel at /webhooks/rest/webhook, the widget at
    /widget.js and a demo shop at /. Needs a trained model and a running action server
    (`shopintent up` starts everything). Flags override SHOPINTENT_* settings.
    """
    from bot.app import _conversation_secret, check_production
    from bot.domain import load_domain
    from bot.model import require_model

    settings = serve_settings(args)
    check_production(settings)
    if args.workers > 1 and _conversation_secret(settings) is None:
        # Each worker would draw a key of its own and refuse the ids the others issued.
        settings = settings.model_copy(update={"conversation_secret": secrets.token_hex(32)})
        print(
            f"bot: no secret is set; the {args.workers} workers share a conversation-id key made "
            "for this run (set SHOPINTENT_CONVERSATION_SECRET to keep ids valid across restarts)",
            flush=True,
        )
    # Fail here with a clean message rather than inside uvicorn's lifespan.
    load_domain(settings.domain_path, settings.policy_path)
    require_model(settings.model_dir)
    host = args.host or settings.host
    port = args.port or settings.port
    print(f"bot: http://{host}:{port}/  (webhook /webhooks/rest/webhook)", flush=True)
    return serve_bot(settings, host=host, port=port, workers=args.workers, log_level=args.log_level)


def serve_bot(settings: BotSettings, *, host: str, port: int, workers: int, log_level: str) -> int:
    """Run `create_app(settings)` under uvicorn in `workers` processes until interrupted.

    Each worker builds its app from the same `settings` (uvicorn pickles the factory
    into the processes it spawns), so the workers share one configuration without
    the environment.

    Returns:
        0 after a stop; 3 (uvicorn's startup failure) when a single worker did not start.
    """
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    from bot.app import create_app

    config = uvicorn.Config(
        functools.partial(create_app, settings),
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
        timeout_graceful_shutdown=5,
        # Longer than a client's own idle expiry (httpx: 5 s, uvicorn's default too): a
        # request sent on a connection the server is closing at that moment fails.
        timeout_keep_alive=30,
    )
    server = uvicorn.Server(config=config)
    try:
        if workers > 1:
            Multiprocess(config, sockets=[config.bind_socket()]).run()
        else:
            server.run()
    except KeyboardInterrupt:
        pass
    return 3 if workers == 1 and not server.started else 0


def run_chat(args: argparse.Namespace) -> int:
    """Talk to a running bot from the terminal.

    Send each line you type to a running bot's REST webhook and print the answers.
    """
    import httpx

    from bot.errors import BotError

    base = args.url.rstrip("/")
    url = base + "/webhooks/rest/webhook"
    headers = {"Authorization": f"Bearer {args.token}"} if args.token else {}
    with httpx.Client(timeout=30) as client:
        sender = args.sender
        if sender is None:
            # Without the webhook token only a conversation id the bot issued is accepted.
            try:
                started = client.post(f"{base}/webhooks/rest/session", json={}, headers=headers)
            except httpx.HTTPError as exc:
                raise BotError(
                    f"could not reach the bot at {base} ({exc}); start it with `shopintent up`"
                ) from exc
            if started.status_code != 200:
                raise BotError(
                    f"the bot refused to start a conversation (HTTP {started.status_code}): "
                    f"{started.text[:200]}"
                )
            sender = str(started.json()["sender"])
        print(f"chatting with {url} as {sender!r}; Ctrl-D to stop", flush=True)
        while True:
            try:
                line = input("you> ")
            except EOFError:
                print()
                return 0
            if not line.strip():
                continue
            try:
                response = client.post(
                    url, json={"sender": sender, "message": line}, headers=headers
                )
            except httpx.HTTPError as exc:
                raise BotError(
                    f"could not reach the bot at {url} ({exc}); start it with `shopintent up`"
                ) from exc
            if response.status_code != 200:
                print(f"bot> [HTTP {response.status_code}] {response.text}")
                continue
            for message in response.json():
                if message.get("text"):
                    print(f"bot> {message['text']}")
                for button in message.get("buttons", []):
                    print(f"     [{button['title']}] -> {button['payload']}")
                for product in (message.get("custom") or {}).get("products", []):
                    print(f"     * {product.get('title')}  {product.get('price', '')}")
