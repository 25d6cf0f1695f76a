"""The action server: rasa-sdk's app on this package, bound to loopback, calls signed.

`python -m rasa_sdk --actions actions` still serves the same actions (Rasa
compatibility), but `shopintent actions` is the way to run them for shoppers: it
binds 127.0.0.1 unless told otherwise, and with `SHOPINTENT_ACTIONS_SECRET` set it
answers 401 to any `/webhook` call whose `X-Shopintent-Signature` is not
`sha256=<hex HMAC-SHA256 of the raw body>` under that secret.
"""

from __future__ import annotations

import gc
import logging

from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from core.signing import SIGNATURE_HEADER, signature_ok

DEFAULT_PORT = 5055
DEFAULT_HOST = "127.0.0.1"
_SIGNED_PATHS = ("/webhook",)

logger = logging.getLogger(__name__)


def create_server_app(secret: str | None) -> Sanic:
    """rasa-sdk's Sanic app for the `actions` package, with the signature check.

    Args:
        secret: `SHOPINTENT_ACTIONS_SECRET`; None serves unsigned calls (development).

    Returns:
        The app (routes `/webhook`, `/actions`, `/health` as rasa-sdk defines them).
    """
    from rasa_sdk.endpoint import create_app
    from rasa_sdk.executor import ActionExecutor

    executor = ActionExecutor()
    executor.register_package("actions")
    app = create_app(executor, cors_origins=[])

    @app.on_request
    async def check_signature(request: Request) -> HTTPResponse | None:
        if secret is None or request.path not in _SIGNED_PATHS:
            return None
        if signature_ok(secret, request.body or b"", request.headers.get(SIGNATURE_HEADER)):
            return None
        logger.warning("refused an unsigned or wrongly signed call to %s", request.path)
        return response.json(
            {
                "error": "unauthorized",
                "message": f"expected a valid {SIGNATURE_HEADER} header (sha256=<hex HMAC-SHA256 "
                "of the raw body> with SHOPINTENT_ACTIONS_SECRET)",
            },
            status=401,
        )

    @app.before_server_start
    async def start_retention(app: Sanic) -> None:
        app.add_task(_retention_loop())

    @app.after_server_start
    async def freeze_start_up(app: Sanic) -> None:
        # What start-up built (rasa-sdk's and Sanic's objects, the store's engine, the
        # actions) lives as long as the process: keep it out of the collector's full
        # passes, which otherwise walk all of it and stall every call in flight.
        gc.collect()
        gc.freeze()

    return app


RETENTION_EVERY_S = 24 * 3600


def purge_now() -> None:
    """Purge what is past `SHOPINTENT_RETENTION_DAYS` (ticket texts, lookup counters)."""
    from datetime import timedelta

    from actions.config import get_settings
    from actions.orders import utcnow
    from actions.retention import purge
    from actions.store import session_scope

    with session_scope() as session:
        purge(session, utcnow() - timedelta(days=get_settings().retention_days))


async def _retention_loop() -> None:
    """At start and then daily; a failing purge is logged and tried again the next day."""
    import asyncio

    while True:
        try:
            await asyncio.to_thread(purge_now)
        except Exception:
            logger.exception("the retention purge failed; it runs again in a day")
        await asyncio.sleep(RETENTION_EVERY_S)


def serve(
    port: int = DEFAULT_PORT, *, host: str = DEFAULT_HOST, prepare_store: bool = True
) -> None:
    """Prepare the store, then run the action server until interrupted.

    Args:
        port: TCP port of the server.
        host: Interface to bind; loopback unless the deployment needs more.
        prepare_store: Create and seed an empty store first (honours SHOPINTENT_AUTO_SEED),
            so the first shopper does not wait for it.

    Raises:
        ActionsError: The store is unavailable or empty with auto-seeding off.
    """
    from actions.config import get_settings

    if prepare_store:
        from actions.store import ready_session_factory

        ready_session_factory()
    settings = get_settings()
    if settings.actions_secret is None:
        logger.warning(
            "SHOPINTENT_ACTIONS_SECRET is not set: the action server accepts unsigned calls"
        )
    app = create_server_app(settings.actions_secret)
    from privacy import install_log_redaction

    install_log_redaction()
    print(f"actions: http://{host}:{port}/webhook", flush=True)
    app.prepare(host=host, port=port, single_process=True, access_log=False, motd=False)
    Sanic.serve_single(app)
