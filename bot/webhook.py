"""Rasa's REST channel under `/webhooks/rest`, and the shopper's behaviour events (`/events`).

- `POST /webhooks/rest/session`: a new conversation id (`sender`), signed by the bot.
- `POST /webhooks/rest/webhook`: `{"sender", "message", "metadata"}` in, the bot's messages out.
- `POST /events`: what the shopper did on the shop's pages, kept only with consent.
- `GET /webhooks/rest/`: the channel's health check.

Browsers use conversation ids the bot issued; servers holding the webhook token may name
their own (`bot.deps.server_caller`). Bodies are read with a size cap and checked field
by field, each refusal saying what was expected; rate limits answer 429 with `Retry-After`.
"""

from __future__ import annotations

import asyncio
import json
import unicodedata
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from bot.deps import (
    BotState,
    ChatDep,
    ClientAddressDep,
    EngineDep,
    LimiterDep,
    ServerCallerDep,
    StateDep,
)
from bot.errors import (
    InvalidMessageError,
    InvalidRequestError,
    InvalidSenderError,
    MissingSenderError,
    PayloadTooLargeError,
)
from bot.identity import client_ref, verify_customer_token
from bot.ratelimit import RateLimiter
from bot.service import Caller
from bot.settings import BotSettings
from core.wire import BotMessage

router = APIRouter()


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


def _wire(message: BotMessage) -> dict[str, Any]:
    """Leave out keys with no value, as Rasa's REST channel does."""
    return {k: v for k, v in message.items() if v not in (None, "", [], {})}


def verified_customer(metadata: Any, settings: BotSettings) -> str | None:
    """The customer id of `metadata.customer_token`, or None for a guest (no token).

    Raises:
        InvalidCustomerTokenError: The token is expired or forged (401).
    """
    if not isinstance(metadata, dict) or metadata.get("customer_token") in (None, ""):
        return None
    return verify_customer_token(metadata["customer_token"], settings.identity_secret)


def read_json_object(raw: bytes, example: str) -> dict[str, Any]:
    """Parse a body that must be a JSON object (with `metadata` an object, if present).

    Raises:
        InvalidRequestError: The body is not UTF-8 JSON, or not an object.
        InvalidMessageError: `metadata` is there and is not an object.
    """
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


async def read_body(request: Request, max_bytes: int) -> bytes:
    """The request's body, refused as soon as it is longer than `max_bytes`.

    Raises:
        PayloadTooLargeError: The declared or the streamed length is over `max_bytes`.
    """
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise PayloadTooLargeError(
            f"expected a body of at most {max_bytes} bytes, found {declared}"
        )
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > max_bytes:
            raise PayloadTooLargeError(f"expected a body of at most {max_bytes} bytes, found more")
    return bytes(body)


@dataclass(frozen=True)
class _ConversationBody:
    """What a route that takes a conversation's `sender` says in its refusals."""

    example: str  # a body the route takes, shown when the body is no JSON object
    no_sender: str  # the refusal of a body without `sender`
    foreign_sender: str  # the refusal of a browser's id that this bot did not issue


_WEBHOOK_BODY = _ConversationBody(
    example='{"sender": "<id from /webhooks/rest/session>", "message": "hi"}',
    no_sender="expected a `sender`: the conversation id from POST /webhooks/rest/session "
    '(send {"sender": "...", "message": "..."})',
    foreign_sender="this conversation id was not issued by this bot (or has been signed with "
    "another secret); get one from POST /webhooks/rest/session",
)
_EVENTS_BODY = _ConversationBody(
    example='{"sender": "<id>", "events": [{"type": "product_view", "product_id": 12}]}',
    no_sender="expected a `sender`: the conversation id of the widget",
    foreign_sender="this conversation id was not issued by this bot; get one from "
    "POST /webhooks/rest/session",
)


async def _read_conversation_body(
    request: Request,
    state: BotState,
    limiter: RateLimiter,
    address: str | None,
    server: bool,
    body: _ConversationBody,
) -> tuple[dict[str, Any], str]:
    """A browser's or server's body for one conversation, and its checked `sender`.

    A browser's request counts against its address's `client` limit first; then the body
    is read (size-capped) as a JSON object, and its `sender` must be a valid text that this
    bot issued (servers holding the webhook token may name their own).

    Args:
        request: The request whose body to read.
        state: The app's state (its settings and conversation ids).
        limiter: The rate limiter.
        address: The client's address (None when unknown).
        server: Whether the caller holds the webhook token.
        body: The route's example body and refusals.

    Returns:
        The body as a JSON object, and its `sender`.

    Raises:
        RateLimitedError: A browser address sent too many requests.
        PayloadTooLargeError: The body is over `max_body_bytes`.
        InvalidRequestError: The body is no JSON object.
        MissingSenderError: No `sender`, or an empty one.
        InvalidMessageError: `sender` (or `metadata`) is not valid.
        InvalidSenderError: A browser's `sender` was not issued by this bot.
    """
    settings = state.settings
    if not server:
        await limiter.hit("client", state.rate_ref(address))
    payload = read_json_object(await read_body(request, settings.max_body_bytes), body.example)
    if payload.get("sender") in (None, ""):
        raise MissingSenderError(body.no_sender)
    sender = _check_text(
        payload["sender"], "sender", settings.max_sender_chars, allow_newlines=False
    )
    if not server and not state.conversations.valid(sender):
        raise InvalidSenderError(body.foreign_sender)
    return payload, sender


@router.post("/webhooks/rest/session")
async def session(
    request: Request,
    state: StateDep,
    limiter: LimiterDep,
    address: ClientAddressDep,
    server: ServerCallerDep,
) -> dict[str, str]:
    """Start a conversation: returns the `sender` id to send with every message.

    The id is signed by the bot, so nobody can make one up or take over someone
    else's. A `metadata.customer_token` in the body is checked here too (401 when
    expired or forged), so the widget learns at once that a sign-in is stale. Too
    many new conversations from one browser address get 429 with `Retry-After`.
    """
    settings = state.settings
    if not server:
        await limiter.hit("session", state.rate_ref(address))
    payload = read_json_object(
        await read_body(request, settings.max_body_bytes), '{"metadata": {}}'
    )
    verified_customer(payload.get("metadata"), settings)
    return {"sender": state.conversations.issue()}


@router.post("/webhooks/rest/webhook")
async def webhook(
    request: Request,
    service: ChatDep,
    state: StateDep,
    limiter: LimiterDep,
    address: ClientAddressDep,
    server: ServerCallerDep,
) -> JSONResponse:
    """Rasa's REST channel: `{"sender", "message", "metadata"}` in, a list of messages out.

    `sender` must be a conversation id from `POST /webhooks/rest/session`; callers
    holding the webhook token may name their own. A signed-in shopper's token rides
    in `metadata.customer_token`. Too many messages (per conversation, or from one
    browser address) get 429 with `Retry-After`.
    """
    settings = state.settings
    payload, sender = await _read_conversation_body(
        request, state, limiter, address, server, _WEBHOOK_BODY
    )
    await limiter.hit("conversation", state.rate_ref(sender))
    if "message" not in payload:
        raise InvalidMessageError(
            f"expected a `message` field, found only {sorted(payload)[:10]}; "
            'send {"sender": "...", "message": "..."}'
        )
    message = _check_text(
        payload["message"], "message", settings.max_message_chars, allow_newlines=True
    )
    customer = verified_customer(payload.get("metadata"), settings)
    caller = Caller(customer_id=customer, client_ref=client_ref(state.client_key, address))
    replies = await service.handle(sender, message, caller)
    return JSONResponse([_wire(r) for r in replies])


@router.post("/events", status_code=202)
async def events(
    request: Request,
    engine: EngineDep,
    state: StateDep,
    limiter: LimiterDep,
    address: ClientAddressDep,
    server: ServerCallerDep,
) -> JSONResponse:
    """What the shopper did on the shop's pages: `{"sender", "events": [...], "consent"}`.

    Same identity as the webhook (a conversation id the bot issued, or the webhook
    token; `metadata.customer_token` for a signed-in shopper). Events are stored
    per shopper (the customer when signed in, else the conversation) only with
    consent; `"consent": false` deletes what was kept and records the opt-out.
    """
    from bot.events import parse_batch, set_consent, shopper_key, store_events

    settings = state.settings
    payload, sender = await _read_conversation_body(
        request, state, limiter, address, server, _EVENTS_BODY
    )
    await limiter.hit("events", state.rate_ref(sender))
    batch, consent = parse_batch(payload)
    shopper = shopper_key(verified_customer(payload.get("metadata"), settings), sender)
    if not consent:
        removed = await asyncio.to_thread(set_consent, engine, shopper, False)
        return JSONResponse({"stored": 0, "removed": removed}, status_code=202)
    await asyncio.to_thread(set_consent, engine, shopper, True)
    stored = await asyncio.to_thread(store_events, engine, shopper, sender, batch)
    return JSONResponse({"stored": stored}, status_code=202)


@router.get("/webhooks/rest/")
async def channel_status() -> dict[str, str]:
    """Rasa's REST channel health check."""
    return {"status": "ok"}
