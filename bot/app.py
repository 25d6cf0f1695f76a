"""The bot's FastAPI app: `create_app`, its lifespan, middleware and error handlers.

The routes live with what they serve: Rasa's REST channel and the behaviour events in
`bot.webhook`, health checks, the widget and the demo page in `bot.site`, the review
pages (`bot.review`) and the live handoff (`bot.handoff`: the agent console, its API and
the shopper's message stream). Routes take what they need from `bot.deps`, which reads
the app's typed state (`bot.deps.BotState`).

Build it with `create_app(settings)`; tests pass their own classifier, action
client or store. Every `BotError` maps to its HTTP status here, in one place.
The webhook is rate limited (`bot.ratelimit`: 429 with `Retry-After`); every
response says `nosniff`, and the bot's HTML pages carry `CONTENT_SECURITY_POLICY`.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from limits import RateLimitItem
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot import events as _events  # noqa: F401  (registers bot_events for create_tables)
from bot import handoff, review, site, webhook
from bot.action_client import ActionClient
from bot.deps import BotState
from bot.domain import load_domain
from bot.errors import BotError, InsecureSettingsError, error_response
from bot.identity import ConversationIds, derive_key
from bot.model import Classifier, ModelProvider
from bot.policy import DialoguePolicy
from bot.ratelimit import RateLimiter, Rule, parse_limit
from bot.review.settings import get_review_settings
from bot.service import ChatService
from bot.settings import BotSettings
from bot.store import TranscriptStore

logger = logging.getLogger(__name__)


CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' https: data:; connect-src 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; form-action 'self'"
)
# FastAPI's API docs load Swagger UI / ReDoc from a CDN with an inline script: no CSP there.
_NO_CSP_PATHS = ("/docs", "/redoc")


class SecurityHeaders:
    """ASGI middleware: `nosniff` on every response, the CSP on the bot's own HTML pages.

    Pure ASGI rather than `BaseHTTPMiddleware`, so the webhook pays one header append.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        csp_allowed = not path.startswith(_NO_CSP_PATHS)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {name.lower() for name, _ in headers}
                if b"x-content-type-options" not in names:
                    headers.append((b"x-content-type-options", b"nosniff"))
                content_type = dict(headers).get(b"content-type", b"")
                if (
                    csp_allowed
                    and content_type.startswith(b"text/html")
                    and b"content-security-policy" not in names
                ):
                    headers.append((b"content-security-policy", CONTENT_SECURITY_POLICY.encode()))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _conversation_secret(settings: BotSettings) -> str | None:
    """The secret conversation ids are signed with: its own, else one the bot has anyway."""
    for secret in (
        settings.conversation_secret,
        settings.identity_secret,
        settings.actions_secret,
        settings.webhook_token,
    ):
        if secret is not None:
            return secret
    return None


def check_production(settings: BotSettings) -> None:
    """Refuse production mode without its secrets.

    Raises:
        InsecureSettingsError: `SHOPINTENT_ENV=production` and a secret is missing or short.
    """
    problems = settings.production_problems(get_review_settings().review_token)
    if problems:
        raise InsecureSettingsError(
            "SHOPINTENT_ENV=production needs every secret set: "
            + "; ".join(problems)
            + ". Generate each with `openssl rand -hex 32`, or run with SHOPINTENT_ENV=development"
        )


RETENTION_EVERY_S = 24 * 3600


async def _retention_loop(store: TranscriptStore, days: int) -> None:
    """Purge turns, conversations and events older than `days`, at start and then daily."""
    from datetime import UTC, datetime, timedelta

    from bot.events import purge_events
    from bot.handoff.store import HandoffStore
    from bot.retention import purge_older_than

    purges = {
        "turns and conversations": purge_older_than,
        "behaviour events": purge_events,
        "handoffs": lambda engine, cutoff: HandoffStore(engine).purge(cutoff),
    }
    while True:
        cutoff = datetime.now(UTC) - timedelta(days=days)
        for what, purge in purges.items():
            try:
                await asyncio.to_thread(purge, store.engine, cutoff)
            except Exception:
                logger.exception("the retention purge of %s failed; it runs again in a day", what)
        await asyncio.sleep(RETENTION_EVERY_S)


def create_app(
    settings: BotSettings,
    *,
    classifier: Classifier | ModelProvider | None = None,
    action_client: ActionClient | None = None,
    store: TranscriptStore | None = None,
) -> FastAPI:
    """Build the bot's web app.

    The lifespan loads what was not passed in: the domain and policy, the model
    (`settings.model_dir`), the transcript store (`settings.database_url`) and the
    action client (`settings.action_endpoint`).

    Args:
        settings: The bot's settings (`bot.settings.get_settings()` in production).
        classifier: A loaded NLU model (or a provider), instead of loading
            `settings.model_dir` and following the registry.
        action_client: An action server client, instead of one for `settings.action_endpoint`.
        store: A transcript store, instead of one for `settings.database_url`.

    Returns:
        The FastAPI app; run it with uvicorn, or use it with `TestClient` in a `with` block.

    Raises:
        InsecureSettingsError: Production mode without its secrets.

    >>> app = create_app(BotSettings())  # doctest: +SKIP
    """
    check_production(settings)
    secret = _conversation_secret(settings)
    if secret is None:
        logger.warning(
            "no secret configured: conversation ids are signed with a key that lasts "
            "as long as this process (set SHOPINTENT_CONVERSATION_SECRET to keep them)"
        )
        secret = secrets.token_hex(32)
    rate_rules: dict[Rule, list[RateLimitItem]] = {
        "conversation": parse_limit(
            settings.conversation_rate_limit, "SHOPINTENT_CONVERSATION_RATE_LIMIT"
        ),
        "client": parse_limit(settings.client_rate_limit, "SHOPINTENT_CLIENT_RATE_LIMIT"),
        "session": parse_limit(settings.session_rate_limit, "SHOPINTENT_SESSION_RATE_LIMIT"),
        "events": parse_limit(settings.events_rate_limit, "SHOPINTENT_EVENTS_RATE_LIMIT"),
    }
    state = BotState(
        settings,
        ConversationIds(derive_key(secret, "conversation-ids")),
        client_key=derive_key(secret, "client-ref"),
        rate_key=derive_key(secret, "rate-limit"),
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        review.check_configuration(app, settings)
        domain = load_domain(settings.domain_path, settings.policy_path)
        if isinstance(classifier, ModelProvider):
            model = classifier
        elif classifier is not None:
            model = ModelProvider.fixed(classifier)
        else:
            model = await asyncio.to_thread(
                ModelProvider.load, settings.model_dir, review.review_settings(app)
            )
        state.model = model
        db = store or TranscriptStore(settings.database_url, settings.lock_timeout_s)
        await asyncio.to_thread(db.create_tables)
        client = action_client or ActionClient(
            settings.action_endpoint, settings.action_timeout_s, settings.actions_secret
        )
        policy = DialoguePolicy(
            domain,
            client,
            handoff_after=settings.fallback_handoff_after,
            keep_events=settings.max_tracker_events,
        )
        handoffs = await handoff.start(settings, domain, db) if settings.handoff_live else None
        state.handoffs = handoffs
        state.chat = ChatService(domain, policy, model, db, handoffs)
        state.action_client = client
        # Made here, inside the event loop its locks and Redis connections belong to.
        limiter = state.limiter = RateLimiter(rate_rules, settings.redis_url)
        retention = asyncio.create_task(_retention_loop(db, settings.retention_days))
        # What start-up built (the model, the domain, the routes) lives as long as the
        # process: keep it out of the collector's full passes, which otherwise walk it
        # all and stall a turn now and then.
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            retention.cancel()
            if handoffs is not None:
                await handoffs.aclose()
            await limiter.aclose()
            await model.aclose()
            if action_client is None:
                await client.aclose()
            if store is None:
                db.dispose()

    app = FastAPI(
        title="shopintent bot",
        summary="Rasa-compatible REST channel for the shop's support bot.",
        lifespan=lifespan,
    )
    app.state = state
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_methods=["GET", "POST", "OPTIONS"],
        allow_headers=["Authorization", "Content-Type"],
        max_age=600,
        expose_headers=["Retry-After"],
    )
    app.add_middleware(SecurityHeaders)

    @app.exception_handler(BotError)
    async def bot_error(_request: Request, exc: BotError) -> JSONResponse:
        return error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(
            {"error": "invalid_request", "message": str(exc.errors())[:500]}, status_code=422
        )

    app.include_router(webhook.router)
    app.include_router(site.router)
    review.install(app)
    handoff.install(app)
    if settings.serves_demo_page:
        app.include_router(site.demo_router)
    return app


def create_app_from_env() -> FastAPI:
    """Build the app from the environment; uvicorn's `--factory` entry point."""
    from bot.settings import get_settings

    return create_app(get_settings())
