"""Subcommands owned by the `bot` package: `serve` (the bot's web server) and `chat`."""

from __future__ import annotations

import argparse
import os
import secrets
from pathlib import Path
from typing import Any

from bot.errors import BotError
from bot.review import commands as review_commands

# CLI flag -> environment variable read by `bot.settings.BotSettings`.
_SETTING_FLAGS = {
    "model": "SHOPINTENT_MODEL_DIR",
    "domain": "SHOPINTENT_DOMAIN_PATH",
    "policy": "SHOPINTENT_POLICY_PATH",
    "database_url": "SHOPINTENT_DATABASE_URL",
    "action_endpoint": "SHOPINTENT_ACTION_ENDPOINT",
    "token": "SHOPINTENT_WEBHOOK_TOKEN",
}


def register(sub: Any) -> None:
    """Add this package's subcommands to the `shopintent` parser's subparsers."""
    serve = sub.add_parser(
        "serve",
        help="run the bot only (REST webhook, widget, demo page)",
        description=(
            "Serve the bot with uvicorn: Rasa's REST channel at /webhooks/rest/webhook, the "
            "widget at /widget.js and a demo shop at /. Needs a trained model and a running "
            "action server (`shopintent up` starts everything). Flags override SHOPINTENT_* settings."
        ),
    )
    serve.add_argument("--host", default=None, help="interface to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=None, help="port (default 5005)")
    serve.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    serve.add_argument("--model", type=Path, default=None, help="model folder (models/default)")
    serve.add_argument("--domain", type=Path, default=None, help="domain.yml path")
    serve.add_argument("--policy", type=Path, default=None, help="policy.yml path")
    serve.add_argument("--database-url", default=None, help="SQLAlchemy URL of the store")
    serve.add_argument("--action-endpoint", default=None, help="action server webhook URL")
    serve.add_argument("--token", default=None, help="require this webhook token")
    serve.add_argument("--log-level", default="warning", help="uvicorn log level")
    serve.set_defaults(func=run_serve)

    chat = sub.add_parser(
        "chat",
        help="talk to a running bot from the terminal",
        description="Send each line you type to a running bot's REST webhook and print the answers.",
    )
    chat.add_argument("--url", default="http://127.0.0.1:5005", help="the bot's base URL")
    chat.add_argument(
        "--sender",
        default=None,
        help="conversation id (needs --token; default: a new conversation from the bot)",
    )
    chat.add_argument("--token", default=os.environ.get("SHOPINTENT_WEBHOOK_TOKEN"), help="token")
    chat.set_defaults(func=run_chat)
    review_commands.register(sub)


def apply_overrides(args: argparse.Namespace) -> None:
    """Put the flags that were given into the environment, where the settings read them."""
    for flag, env in _SETTING_FLAGS.items():
        value = getattr(args, flag, None)
        if value is not None:
            os.environ[env] = str(value)
    from bot.settings import get_settings

    get_settings.cache_clear()


def run_serve(args: argparse.Namespace) -> int:
    """Run the bot's web server until interrupted."""
    import uvicorn

    from bot.domain import load_domain
    from bot.model import require_model
    from bot.settings import get_settings

    apply_overrides(args)
    settings = get_settings()
    from bot.app import _conversation_secret, check_production

    check_production(settings)
    if args.workers > 1 and _conversation_secret(settings) is None:
        # Each worker would draw a key of its own and refuse the ids the others issued.
        os.environ["SHOPINTENT_CONVERSATION_SECRET"] = secrets.token_hex(32)
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
    uvicorn.run(
        "bot.app:create_app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=args.workers,
        log_level=args.log_level,
        timeout_graceful_shutdown=5,
        # Longer than a client's own idle expiry (httpx: 5 s, uvicorn's default too): a
        # request sent on a connection the server is closing at that moment fails.
        timeout_keep_alive=30,
    )
    return 0


def run_chat(args: argparse.Namespace) -> int:
    """Read lines from stdin, send them to the bot, print what it answers."""
    import httpx

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
