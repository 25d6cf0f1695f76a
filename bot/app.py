"""The bot's FastAPI app: Rasa's REST channel webhook, health checks, the widget.

Build it with `create_app(settings)`; tests pass their own classifier, action
client or store. Every `BotError` maps to its HTTP status here, in one place.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import unicodedata
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from html import escape
from importlib import resources
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import HTMLResponse, JSONResponse, Response

from bot import review
from bot.action_client import ActionClient
from bot.classifier import BatchingClassifier, Classifier
from bot.domain import load_domain
from bot.errors import (
    BotError,
    InvalidMessageError,
    InvalidRequestError,
    PayloadTooLargeError,
    UnauthorizedError,
)
from bot.policy import DialoguePolicy
from bot.service import ChatService
from bot.settings import BotSettings
from bot.store import TranscriptStore
from bot.types import BotMessage

logger = logging.getLogger(__name__)


def _static(name: str) -> str:
    return resources.files("bot").joinpath("static", name).read_text(encoding="utf-8")


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
    classifier: Classifier | None = None,
    action_client: ActionClient | None = None,
    store: TranscriptStore | None = None,
) -> FastAPI:
    """Build the bot's web app.

    The lifespan loads what was not passed in: the domain and policy, the model
    (`settings.model_dir`), the transcript store (`settings.database_url`) and the
    action client (`settings.action_endpoint`).

    Args:
        settings: The bot's settings (`bot.settings.get_settings()` in production).
        classifier: A loaded NLU model, instead of loading `settings.model_dir`.
        action_client: An action server client, instead of one for `settings.action_endpoint`.
        store: A transcript store, instead of one for `settings.database_url`.

    Returns:
        The FastAPI app; run it with uvicorn, or use it with `TestClient` in a `with` block.

    >>> app = create_app(BotSettings())  # doctest: +SKIP
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        domain = load_domain(settings.domain_path, settings.policy_path)
        model = (
            classifier
            if classifier is not None
            else await asyncio.to_thread(review.load_model, app, settings.model_dir)
        )
        db = store or TranscriptStore(settings.database_url, settings.lock_timeout_s)
        await asyncio.to_thread(db.create_tables)
        client = action_client or ActionClient(settings.action_endpoint, settings.action_timeout_s)
        batching = BatchingClassifier(model)
        policy = DialoguePolicy(
            domain,
            client,
            handoff_after=settings.fallback_handoff_after,
            keep_events=settings.max_tracker_events,
        )
        app.state.chat = ChatService(domain, policy, batching, db)
        app.state.action_client = client
        try:
            yield
        finally:
            await batching.aclose()
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
    )

    @app.exception_handler(BotError)
    async def bot_error(_request: Request, exc: BotError) -> JSONResponse:
        return JSONResponse({"error": exc.code, "message": str(exc)}, status_code=exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(
            {"error": "invalid_request", "message": str(exc.errors())[:500]}, status_code=422
        )

    def authorised(request: Request) -> None:
        if settings.webhook_token is None:
            return
        header = request.headers.get("authorization", "")
        given = (
            header[7:] if header[:7].lower() == "bearer " else request.query_params.get("token", "")
        )
        if not hmac.compare_digest(given.encode(), settings.webhook_token.encode()):
            raise UnauthorizedError(
                "this webhook needs the shared token: send `Authorization: Bearer <token>` or "
                "`?token=<token>` (SHOPINTENT_WEBHOOK_TOKEN on the server)"
            )

    Auth = Depends(authorised)

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

    @app.post("/webhooks/rest/webhook", dependencies=[Auth])
    async def webhook(request: Request, service: Chat) -> JSONResponse:
        """Rasa's REST channel: `{"sender", "message", "metadata"}` in, a list of messages out."""
        raw = await read_body(request)
        try:
            payload = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError) as exc:
            raise InvalidRequestError(
                f'expected a UTF-8 JSON body like {{"sender": "u1", "message": "hi"}}, '
                f"found something that does not parse ({exc.__class__.__name__})"
            ) from exc
        if not isinstance(payload, dict):
            raise InvalidRequestError(
                f"expected a JSON object with `sender` and `message`, found {type(payload).__name__}"
            )
        if "message" not in payload:
            raise InvalidMessageError(
                f"expected a `message` field, found only {sorted(payload)[:10]}; "
                'send {"sender": "...", "message": "..."}'
            )
        # Rasa's REST channel calls a conversation without a sender "default".
        sender = _check_text(
            payload.get("sender", "default"),
            "sender",
            settings.max_sender_chars,
            allow_newlines=False,
        )
        message = _check_text(
            payload["message"], "message", settings.max_message_chars, allow_newlines=True
        )
        metadata = payload.get("metadata")
        if metadata is not None and not isinstance(metadata, dict):
            raise InvalidMessageError(
                f"expected `metadata` to be an object or absent, found {type(metadata).__name__}"
            )
        replies = await service.handle(sender, message)
        return JSONResponse([_wire(r) for r in replies])

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
            body["model_version"] = service.classifier.version
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

    @app.get("/favicon.ico", include_in_schema=False)
    async def favicon() -> Response:
        return Response(status_code=204)

    if settings.demo_page:

        @app.get("/", response_class=HTMLResponse)
        async def demo_page() -> HTMLResponse:
            """A small demo shop page that embeds the widget."""
            token = escape(settings.webhook_token or "", quote=True)
            return HTMLResponse(_static("demo.html").replace("{{TOKEN}}", token))

    return app


def create_app_from_env() -> FastAPI:
    """Build the app from the environment; uvicorn's `--factory` entry point."""
    from bot.settings import get_settings

    return create_app(get_settings())
