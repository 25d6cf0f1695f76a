"""The bot's FastAPI app: Rasa's REST channel webhook, health checks, the widget.

The review pages (`bot.review`) and the live handoff (`bot.handoff`: the agent console,
its API and the shopper's message stream) are installed with one call each.

Build it with `create_app(settings)`; tests pass their own classifier, action
client or store. Every `BotError` maps to its HTTP status here, in one place.
The webhook is rate limited (`bot.ratelimit`: 429 with `Retry-After`); every
response says `nosniff`, and the bot's HTML pages carry `CONTENT_SECURITY_POLICY`.
"""

from __future__ import annotations

import asyncio
import gc
import hmac
import json
import logging
import secrets
import unicodedata
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import HTMLResponse, JSONResponse, Response
from limits import RateLimitItem
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot import events as _events  # noqa: F401  (registers bot_events for create_tables)
from bot import handoff, review
from bot.action_client import ActionClient
from bot.domain import load_domain
from bot.errors import (
    BotError,
    InsecureSettingsError,
    InvalidMessageError,
    InvalidRequestError,
    InvalidSenderError,
    MissingSenderError,
    PayloadTooLargeError,
    RateLimitedError,
    UnauthorizedError,
)
from bot.identity import (
    ConversationIds,
    client_ref,
    derive_key,
    issue_customer_token,
    verify_customer_token,
)
from bot.model import Classifier, ModelProvider
from bot.policy import DialoguePolicy
from bot.ratelimit import RateLimiter, Rule, parse_limit
from bot.review.settings import get_review_settings
from bot.service import Caller, ChatService
from bot.settings import BotSettings
from bot.store import TranscriptStore
from core.wire import BotMessage

logger = logging.getLogger(__name__)


CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' https: data:; connect-src 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; form-action 'self'"
)
# FastAPI's API docs load Swagger UI / ReDoc from a CDN with an inline script: no CSP there.
_NO_CSP_PATHS = ("/docs", "/redoc")


def _static(name: str) -> str:
    return resources.files("bot").joinpath("static", name).read_text(encoding="utf-8")


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


def _check_text(value: Any, field: str, max_chars: int, *, allow_newlines: bool) -> str:
    """Return a valid text field or raise `InvalidMessageError` saying what is wrong."""
    if not isinstance(value, str):
        raise InvalidMessageError(
            f"expected `{field}` to be a string, found {type(value).__name__}; "
            'send {"sender": "...", "message": "..."}'
        )
    if not value.strip():
        raise InvalidMessageError(f"expected `{field}` to hold some text, found an empty string")
    if len(value) > max_chars:
        raise InvalidMessageError(
            f"expected `{field}` to have at most {max_chars} characters, found {len(value)}; "
            "send a shorter message"
        )
    for char in value:
        if "\ud800" <= char <= "\udfff":
            raise InvalidMessageError(
                f"`{field}` holds a lone UTF-16 surrogate (U+{ord(char):04X}), which is not "
                "text; send valid Unicode"
            )
        if unicodedata.category(char) == "Cc" and not (allow_newlines and char in "\n\t\r"):
            raise InvalidMessageError(
                f"`{field}` holds the control character U+{ord(char):04X}; remove it"
            )
    return value


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


def get_chat(request: Request) -> ChatService:
    """The app's chat service (a FastAPI dependency; tests can override it)."""
    service: ChatService = request.app.state.chat
    return service


Chat = Annotated[ChatService, Depends(get_chat)]


def _wire(message: BotMessage) -> dict[str, Any]:
    """Leave out keys with no value, as Rasa's REST channel does."""
    return {k: v for k, v in message.items() if v not in (None, "", [], {})}


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
    conversations = ConversationIds(derive_key(secret, "conversation-ids"))
    client_key = derive_key(secret, "client-ref")
    rate_key = derive_key(secret, "rate-limit")
    rate_rules: dict[Rule, list[RateLimitItem]] = {
        "conversation": parse_limit(
            settings.conversation_rate_limit, "SHOPINTENT_CONVERSATION_RATE_LIMIT"
        ),
        "client": parse_limit(settings.client_rate_limit, "SHOPINTENT_CLIENT_RATE_LIMIT"),
        "session": parse_limit(settings.session_rate_limit, "SHOPINTENT_SESSION_RATE_LIMIT"),
        "events": parse_limit(settings.events_rate_limit, "SHOPINTENT_EVENTS_RATE_LIMIT"),
    }

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
        app.state.model = model
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
        app.state.handoffs = handoffs
        app.state.chat = ChatService(domain, policy, model, db, handoffs)
        app.state.action_client = client
        # Made here, inside the event loop its locks and Redis connections belong to.
        app.state.limiter = RateLimiter(rate_rules, settings.redis_url)
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
            await app.state.limiter.aclose()
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
        headers = (
            {"Retry-After": str(exc.retry_after_s)} if isinstance(exc, RateLimitedError) else None
        )
        return JSONResponse(
            {"error": exc.code, "message": str(exc)}, status_code=exc.status_code, headers=headers
        )

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(
            {"error": "invalid_request", "message": str(exc.errors())[:500]}, status_code=422
        )

    def server_caller(request: Request) -> bool:
        """Whether the caller holds the webhook token (a server, which may name sender ids).

        No token sent: a browser, which must use a conversation id the bot issued. A
        token sent that is wrong: 401.
        """
        header = request.headers.get("authorization", "")
        given = (
            header[7:] if header[:7].lower() == "bearer " else request.query_params.get("token", "")
        )
        if not given:
            return False
        if settings.webhook_token is None or not hmac.compare_digest(
            given.encode(), settings.webhook_token.encode()
        ):
            raise UnauthorizedError(
                "the webhook token is wrong: send the shared token as `Authorization: Bearer "
                "<token>` (SHOPINTENT_WEBHOOK_TOKEN on the server), or no token and a "
                "conversation id from POST /webhooks/rest/session"
            )
        return True

    ServerCaller = Depends(server_caller)

    def rate_ref(value: str | None) -> str | None:
        """What rate limits count under: a keyed hash, never the address or sender id itself."""
        return client_ref(rate_key, value)

    def limiter(request: Request) -> RateLimiter:
        rate_limiter: RateLimiter = request.app.state.limiter
        return rate_limiter

    def client_address(request: Request) -> str | None:
        return request.client.host if request.client else None

    def verified_customer(metadata: Any) -> str | None:
        """The customer id of `metadata.customer_token`, or None for a guest (no token)."""
        if not isinstance(metadata, dict) or metadata.get("customer_token") in (None, ""):
            return None
        return verify_customer_token(metadata["customer_token"], settings.identity_secret)

    def read_json_object(raw: bytes, example: str) -> dict[str, Any]:
        try:
            payload = json.loads(raw.decode("utf-8")) if raw.strip() else {}
        except (UnicodeDecodeError, ValueError, RecursionError) as exc:
            raise InvalidRequestError(
                f"expected a UTF-8 JSON body like {example}, "
                f"found something that does not parse ({exc.__class__.__name__})"
            ) from exc
        if not isinstance(payload, dict):
            raise InvalidRequestError(
                f"expected a JSON object like {example}, found {type(payload).__name__}"
            )
        metadata = payload.get("metadata")
        if metadata is not None and not isinstance(metadata, dict):
            raise InvalidMessageError(
                f"expected `metadata` to be an object or absent, found {type(metadata).__name__}"
            )
        return payload

    async def read_body(request: Request) -> bytes:
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > settings.max_body_bytes:
            raise PayloadTooLargeError(
                f"expected a body of at most {settings.max_body_bytes} bytes, found {declared}"
            )
        body = bytearray()
        async for chunk in request.stream():
            body.extend(chunk)
            if len(body) > settings.max_body_bytes:
                raise PayloadTooLargeError(
                    f"expected a body of at most {settings.max_body_bytes} bytes, found more"
                )
        return bytes(body)

    @app.post("/webhooks/rest/session")
    async def session(request: Request, server: bool = ServerCaller) -> dict[str, str]:
        """Start a conversation: returns the `sender` id to send with every message.

        The id is signed by the bot, so nobody can make one up or take over someone
        else's. A `metadata.customer_token` in the body is checked here too (401 when
        expired or forged), so the widget learns at once that a sign-in is stale. Too
        many new conversations from one browser address get 429 with `Retry-After`.
        """
        if not server:
            await limiter(request).hit("session", rate_ref(client_address(request)))
        payload = read_json_object(await read_body(request), '{"metadata": {}}')
        verified_customer(payload.get("metadata"))
        return {"sender": conversations.issue()}

    @app.post("/webhooks/rest/webhook")
    async def webhook(request: Request, service: Chat, server: bool = ServerCaller) -> JSONResponse:
        """Rasa's REST channel: `{"sender", "message", "metadata"}` in, a list of messages out.

        `sender` must be a conversation id from `POST /webhooks/rest/session`; callers
        holding the webhook token may name their own. A signed-in shopper's token rides
        in `metadata.customer_token`. Too many messages (per conversation, or from one
        browser address) get 429 with `Retry-After`.
        """
        rate_limits = limiter(request)
        address = client_address(request)
        if not server:
            await rate_limits.hit("client", rate_ref(address))
        payload = read_json_object(
            await read_body(request),
            '{"sender": "<id from /webhooks/rest/session>", "message": "hi"}',
        )
        if payload.get("sender") in (None, ""):
            raise MissingSenderError(
                "expected a `sender`: the conversation id from POST /webhooks/rest/session "
                '(send {"sender": "...", "message": "..."})'
            )
        sender = _check_text(
            payload["sender"], "sender", settings.max_sender_chars, allow_newlines=False
        )
        if not server and not conversations.valid(sender):
            raise InvalidSenderError(
                "this conversation id was not issued by this bot (or has been signed with "
                "another secret); get one from POST /webhooks/rest/session"
            )
        await rate_limits.hit("conversation", rate_ref(sender))
        if "message" not in payload:
            raise InvalidMessageError(
                f"expected a `message` field, found only {sorted(payload)[:10]}; "
                'send {"sender": "...", "message": "..."}'
            )
        message = _check_text(
            payload["message"], "message", settings.max_message_chars, allow_newlines=True
        )
        customer = verified_customer(payload.get("metadata"))
        caller = Caller(customer_id=customer, client_ref=client_ref(client_key, address))
        replies = await service.handle(sender, message, caller)
        return JSONResponse([_wire(r) for r in replies])

    @app.post("/events", status_code=202)
    async def events(request: Request, server: bool = ServerCaller) -> JSONResponse:
        """What the shopper did on the shop's pages: `{"sender", "events": [...], "consent"}`.

        Same identity as the webhook (a conversation id the bot issued, or the webhook
        token; `metadata.customer_token` for a signed-in shopper). Events are stored
        per shopper (the customer when signed in, else the conversation) only with
        consent; `"consent": false` deletes what was kept and records the opt-out.
        """
        from bot.events import parse_batch, set_consent, shopper_key, store_events

        address = client_address(request)
        if not server:
            await limiter(request).hit("client", rate_ref(address))
        payload = read_json_object(
            await read_body(request),
            '{"sender": "<id>", "events": [{"type": "product_view", "product_id": 12}]}',
        )
        if payload.get("sender") in (None, ""):
            raise MissingSenderError("expected a `sender`: the conversation id of the widget")
        sender = _check_text(
            payload["sender"], "sender", settings.max_sender_chars, allow_newlines=False
        )
        if not server and not conversations.valid(sender):
            raise InvalidSenderError(
                "this conversation id was not issued by this bot; get one from "
                "POST /webhooks/rest/session"
            )
        await limiter(request).hit("events", rate_ref(sender))
        batch, consent = parse_batch(payload)
        shopper = shopper_key(verified_customer(payload.get("metadata")), sender)
        engine = get_chat(request).store.engine
        if not consent:
            removed = await asyncio.to_thread(set_consent, engine, shopper, False)
            return JSONResponse({"stored": 0, "removed": removed}, status_code=202)
        await asyncio.to_thread(set_consent, engine, shopper, True)
        stored = await asyncio.to_thread(store_events, engine, shopper, sender, batch)
        return JSONResponse({"stored": stored}, status_code=202)

    @app.get("/webhooks/rest/")
    async def channel_status() -> dict[str, str]:
        """Rasa's REST channel health check."""
        return {"status": "ok"}

    @app.get("/health")
    async def health() -> dict[str, str]:
        """The process is up."""
        return {"status": "ok"}

    @app.get("/ready")
    async def ready(request: Request) -> JSONResponse:
        """Ready to chat: the model is loaded and the database and action server answer."""
        service: ChatService | None = getattr(request.app.state, "chat", None)
        checks = {"model": service is not None, "database": False, "action_server": False}
        if service is not None:
            checks["database"] = await asyncio.to_thread(service.store.ping)
            checks["action_server"] = await request.app.state.action_client.healthy()
        ok = all(checks.values())
        body: dict[str, Any] = {"status": "ok" if ok else "unavailable", "checks": checks}
        if service is not None:
            body["model_version"] = service.model.version
            body["nlu_backend"] = service.model.backend
            # Serving a good older model after a broken promotion: up, but say why.
            degraded = service.model.degraded_reason
            if degraded is not None:
                body["degraded_reason"] = degraded
                if ok:
                    body["status"] = "degraded"
        return JSONResponse(body, status_code=200 if ok else 503)

    @app.get("/widget.js")
    async def widget() -> Response:
        """The embeddable support widget (one dependency-free script)."""
        return Response(
            _static("widget.js"),
            media_type="application/javascript",
            headers={"Cache-Control": "public, max-age=300"},
        )

    review.install(app, settings)
    handoff.install(app, settings, conversations, server_caller)

    @app.get("/favicon.ico", include_in_schema=False)
    async def favicon() -> Response:
        return Response(status_code=204)

    if settings.serves_demo_page:

        @app.get("/", response_class=HTMLResponse)
        async def demo_page() -> HTMLResponse:
            """A small demo shop page that embeds the widget (development only)."""
            # No webhook token in the page: the widget uses conversation ids the bot issues.
            return HTMLResponse(_static("demo.html"))

        @app.get("/demo.js", include_in_schema=False)
        async def demo_script() -> Response:
            """The demo page's sign-in script (a file, so the page runs under the CSP)."""
            return Response(
                _static("demo.js"),
                media_type="application/javascript",
                headers={"Cache-Control": "no-cache"},
            )

        @app.post("/demo/customer-token", include_in_schema=False)
        async def demo_customer_token(request: Request) -> JSONResponse:
            """Sign a demo shopper in, as a shop's backend would (development only)."""
            if settings.identity_secret is None:
                return JSONResponse(
                    {
                        "error": "not_found",
                        "message": "sign-in is off: set SHOPINTENT_IDENTITY_SECRET",
                    },
                    status_code=404,
                )
            payload = read_json_object(await read_body(request), '{"customer_id": "1"}')
            customer = payload.get("customer_id")
            if not isinstance(customer, str | int) or not str(customer).strip():
                raise InvalidMessageError('expected {"customer_id": "<id>"}, a non-empty id')
            customer_id = str(customer).strip()[:64]
            token = issue_customer_token(customer_id, settings.identity_secret)
            return JSONResponse({"token": token, "customer_id": customer_id})

    return app


def create_app_from_env() -> FastAPI:
    """Build the app from the environment; uvicorn's `--factory` entry point."""
    from bot.settings import get_settings

    return create_app(get_settings())
