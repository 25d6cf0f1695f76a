"""The support team's handoff API under `/api/agent` (in the app's OpenAPI schema).

Same access as the review API: the review token (`Authorization: Bearer ...`) or a
review login session's cookie; a session's POSTs also send its CSRF token in
`X-CSRF-Token` (the console page holds it). `{id}` is a handoff's id as listed.
Errors: 404 `handoff_not_found`, 409 `handoff_conflict` (claiming a claimed handoff,
replying to an unclaimed one, ending an ended one), 422 for an empty or too long text.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import time
import unicodedata
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator

from bot.handoff import sse
from bot.handoff.deps import HandoffsDep
from bot.handoff.errors import AgentCsrfError
from bot.handoff.models import OPEN_STATES, STATES
from bot.handoff.service import DEFAULT_AGENT, REASON_LABELS, HandoffService
from bot.handoff.store import QUEUE_TOPIC, HandoffRow, HistoryEntry, MessageRow, conv_topic
from bot.review.auth import ReviewAccess
from bot.review.deps import ReviewerDep, require_reviewer

MAX_ROW_ID = 2**63 - 1
HandoffId = Annotated[int, Path(ge=1, le=MAX_ROW_ID, description="the handoff's id as listed")]
MAX_REPLY_CHARS = 2000
StateFilter = Literal["waiting", "with_agent", "open", "released", "closed", "all"]

router = APIRouter(prefix="/api/agent", tags=["agent"], dependencies=[Depends(require_reviewer)])


def check_csrf(request: Request, access: ReviewerDep) -> ReviewAccess:
    """A login session's POST must carry its CSRF token; Bearer callers need none.

    Raises:
        AgentCsrfError: The header is missing or does not match the session's token.
    """
    if access.session is None:
        return access
    given = request.headers.get("x-csrf-token", "")
    if not hmac.compare_digest(given.encode(), access.session.csrf.encode()):
        raise AgentCsrfError(
            "expected the session's CSRF token in the X-CSRF-Token header; reload /agent"
        )
    return access


WriterDep = Annotated[ReviewAccess, Depends(check_csrf)]


class HandoffOut(BaseModel):
    """A handoff as the queue lists it."""

    id: int = Field(description="the handoff's id, used in every /api/agent/handoffs/{id} route")
    sender: str = Field(description="the conversation (REST channel sender) id")
    state: Literal["waiting", "with_agent", "released", "closed"]
    reason: str = Field(
        description="asked_for_person | fallbacks | complaint | missing_parcel | other"
    )
    reason_label: str
    intent: str | None = Field(description="intent of the message that handed over")
    ticket: str | None = Field(description="the support ticket's reference (SUP-...)")
    agent: str | None = Field(description="display name of the agent who claimed it")
    position: int | None = Field(description="place in the queue while waiting (1: next)")
    waited_s: float = Field(description="seconds from the handoff to the claim (or until now)")
    email: Literal["none", "offered", "asked", "given", "declined"] = Field(
        description="the no-agent fallback: reply by e-mail offered, asked, given or declined"
    )
    contact_email: str | None = Field(description="the shopper's address for a reply, if given")
    created_at: str
    claimed_at: str | None
    first_reply_at: str | None
    ended_at: str | None


class HandoffList(BaseModel):
    """Handoffs, oldest first."""

    items: list[HandoffOut]


class ButtonOut(BaseModel):
    """A button the bot showed."""

    title: str
    payload: str


class MessageOut(BaseModel):
    """One line of a transcript (text redacted)."""

    model_config = ConfigDict(populate_by_name=True)

    seq: int | None = Field(description="the handoff message's seq (None for earlier turns)")
    from_: Literal["shopper", "bot", "agent"] = Field(serialization_alias="from")
    agent: str | None = None
    text: str
    intent: str | None = Field(None, description="the model's intent of a shopper message")
    confidence: float | None = None
    turn: int | None = Field(None, description="the stored turn (bot_turns.seq) of a shopper line")
    buttons: list[ButtonOut] = Field(default_factory=list)
    at: str


class TranscriptOut(BaseModel):
    """A handoff, the conversation before it, and what was said since."""

    handoff: HandoffOut
    history: list[MessageOut] = Field(description="turns and earlier handoffs, oldest first")
    messages: list[MessageOut] = Field(description="this handoff's messages, in seq order")
    last: int = Field(description="the last seq; stream from it with ?after=")


class ClaimIn(BaseModel):
    """Who claims: the display name shoppers see ("Anna from support")."""

    agent: str = Field(DEFAULT_AGENT, min_length=1, max_length=40, examples=["Anna"])

    @field_validator("agent")
    @classmethod
    def _name(cls, value: str) -> str:
        name = " ".join(value.split())
        if not name or any(unicodedata.category(c).startswith("C") for c in name):
            raise ValueError("expected a display name of printable characters, like Anna")
        return name


class ReplyIn(BaseModel):
    """An agent's message to the shopper."""

    text: str = Field(min_length=1, max_length=MAX_REPLY_CHARS, examples=["Hi, I'm Anna."])

    @field_validator("text")
    @classmethod
    def _text(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("expected some text, found only spaces")
        bad = [c for c in value if unicodedata.category(c) == "Cc" and c not in "\n\t"]
        if bad:
            raise ValueError(f"the text holds the control character U+{ord(bad[0]):04X}")
        return value.strip()


class ReplyOut(BaseModel):
    """The reply as stored and sent (personal data redacted)."""

    message: MessageOut
    redacted: bool = Field(description="whether personal data was replaced before sending")


class CannedOut(BaseModel):
    """A domain response, to send with one click."""

    name: str
    text: str


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def handoff_out(row: HandoffRow, position: int | None = None) -> HandoffOut:
    """The API form of a handoff."""
    end = row.claimed_at or row.ended_at or datetime.now(UTC)
    return HandoffOut(
        id=row.id,
        sender=row.sender_id,
        state=row.state,
        reason=row.reason,
        reason_label=REASON_LABELS.get(row.reason, row.reason),
        intent=row.intent,
        ticket=row.ticket,
        agent=row.agent,
        position=position if row.state == "waiting" else None,
        waited_s=round(max(0.0, (end - row.created_at).total_seconds()), 1),
        email=row.email_state,
        contact_email=row.contact_email,
        created_at=row.created_at.isoformat(),
        claimed_at=_iso(row.claimed_at),
        first_reply_at=_iso(row.first_reply_at),
        ended_at=_iso(row.ended_at),
    )


def history_out(
    entry: HistoryEntry, seq: int | None = None, buttons: list[ButtonOut] | None = None
) -> MessageOut:
    """The API form of a line of the conversation (`seq` and `buttons`: a handoff message's)."""
    return MessageOut(
        seq=seq,
        from_=entry.author,
        agent=entry.agent,
        text=entry.text,
        intent=entry.intent,
        confidence=entry.confidence,
        turn=entry.turn_seq,
        buttons=buttons or [],
        at=entry.at.isoformat(),
    )


def message_out(row: MessageRow) -> MessageOut:
    """The API form of a handoff message."""
    buttons = [ButtonOut(**b) for b in row.data.get("buttons") or []]
    return history_out(row.as_history(), seq=row.seq, buttons=buttons)


def _states(state: StateFilter) -> tuple[str, ...]:
    if state == "open":
        return OPEN_STATES
    if state == "all":
        return STATES
    return (state,)


async def queue(service: HandoffService, state: StateFilter = "open") -> list[HandoffOut]:
    """Handoffs in `state`, oldest first, with places in the queue."""
    rows = await service.in_states(_states(state))
    places = await asyncio.to_thread(service.store.positions)
    return [handoff_out(r, places.get(r.id)) for r in rows]


@router.get("/handoffs", response_model=HandoffList)
async def list_handoffs(service: HandoffsDep, state: StateFilter = "open") -> HandoffList:
    """Handoffs, oldest first: `waiting` (the queue), `with_agent`, `open` (both, the
    default), `released`, `closed` or `all`."""
    return HandoffList(items=await queue(service, state))


async def _detail(service: HandoffService, handoff_id: int) -> TranscriptOut:
    transcript = await service.transcript(handoff_id)
    places = await asyncio.to_thread(service.store.positions)
    messages = [message_out(m) for m in transcript.messages]
    last = transcript.messages[-1].seq if transcript.messages else 0
    return TranscriptOut(
        handoff=handoff_out(transcript.handoff, places.get(transcript.handoff.id)),
        history=[history_out(e) for e in transcript.history],
        messages=messages,
        last=last,
    )


@router.get("/handoffs/{handoff_id}", response_model=TranscriptOut)
async def get_handoff(handoff_id: HandoffId, service: HandoffsDep) -> TranscriptOut:
    """One handoff with the redacted transcript so far and the model's intents."""
    return await _detail(service, handoff_id)


@router.post("/handoffs/{handoff_id}/claim", response_model=HandoffOut)
async def claim(
    handoff_id: HandoffId, service: HandoffsDep, _access: WriterDep, body: ClaimIn | None = None
) -> HandoffOut:
    """Take a waiting handoff: its shopper's messages are yours until you release or close
    it. 409 when someone claimed it first."""
    row = await service.claim(handoff_id, (body or ClaimIn(agent=DEFAULT_AGENT)).agent)
    return handoff_out(row)


@router.post("/handoffs/{handoff_id}/messages", response_model=ReplyOut, status_code=201)
async def reply(
    handoff_id: HandoffId, body: ReplyIn, service: HandoffsDep, _access: WriterDep
) -> ReplyOut:
    """Write to the shopper (shown in the widget under your display name). The text is
    stored and sent redacted, like every transcript; 409 until the handoff is claimed."""
    row = await service.reply(handoff_id, body.text)
    return ReplyOut(message=message_out(row), redacted=row.text != body.text)


@router.post("/handoffs/{handoff_id}/typing", status_code=204)
async def typing(handoff_id: HandoffId, service: HandoffsDep, _access: WriterDep) -> Response:
    """Show the shopper that you are typing (for a few seconds; send again while typing)."""
    await service.typing(handoff_id)
    return Response(status_code=204)


@router.post("/handoffs/{handoff_id}/release", response_model=HandoffOut)
async def release(handoff_id: HandoffId, service: HandoffsDep, _access: WriterDep) -> HandoffOut:
    """Hand the conversation back to the bot (the ticket stays open for the team)."""
    return handoff_out(await service.release(handoff_id))


@router.post("/handoffs/{handoff_id}/close", response_model=HandoffOut)
async def close(handoff_id: HandoffId, service: HandoffsDep, _access: WriterDep) -> HandoffOut:
    """End the handoff as done; the bot answers the shopper's next message."""
    return handoff_out(await service.close(handoff_id))


@router.get("/canned", response_model=list[CannedOut])
async def canned(service: HandoffsDep) -> list[CannedOut]:
    """The domain's responses, to send as they are or edit first."""
    return [CannedOut(name=c.name, text=c.text) for c in service.canned_replies()]


async def agent_events(
    service: HandoffService,
    handoff_id: int | None,
    after: int,
    max_s: float = sse.STREAM_MAX_S,
) -> AsyncIterator[str]:
    """The console's stream: `queue` snapshots, and the selected handoff's `handoff`
    state and `message`s (`id:` their seq)."""
    yield sse.retry()
    sender = (
        (await asyncio.to_thread(service.store.get, handoff_id)).sender_id if handoff_id else None
    )
    topics = {QUEUE_TOPIC} | ({conv_topic(sender)} if sender else set())
    sent_queue = sent_handoff = ""
    last = after
    deadline = time.monotonic() + max_s
    with service.hub.watch(topics) as watch:
        while True:
            items = [i.model_dump(mode="json") for i in await queue(service)]
            # Compared without the ever-growing wait, so an unchanged queue is not resent.
            snapshot = json.dumps(
                [{k: v for k, v in i.items() if k != "waited_s"} for i in items], sort_keys=True
            )
            if snapshot != sent_queue:
                yield sse.event("queue", {"items": items})
                sent_queue = snapshot
            if handoff_id is not None and sender is not None:
                row = await asyncio.to_thread(service.store.get, handoff_id)
                detail = handoff_out(row).model_dump(mode="json")
                detail.pop("waited_s")
                current = json.dumps(detail, sort_keys=True)
                if current != sent_handoff:
                    yield sse.event("handoff", detail)
                    sent_handoff = current
                for message in await asyncio.to_thread(service.store.messages, sender, last):
                    data: dict[str, Any] = message_out(message).model_dump(
                        mode="json", by_alias=True
                    )
                    yield sse.event("message", data, message.seq)
                    last = message.seq
            left = deadline - time.monotonic()
            if left <= 0:
                return
            if not await watch.wait(min(service.hub.check_every_s, sse.KEEPALIVE_S, left)):
                yield sse.keepalive()


@router.get("/stream", response_class=StreamingResponse, responses=sse.ROUTE_RESPONSES)
async def stream(
    request: Request,
    service: HandoffsDep,
    handoff: Annotated[int | None, Query(ge=1, le=MAX_ROW_ID)] = None,
    after: Annotated[int, Query(ge=0)] = 0,
) -> StreamingResponse:
    """Server-Sent Events for the console: `queue` (open handoffs, whenever they change),
    and with `?handoff=ID`, that handoff's `handoff` state and `message`s after `after`
    (or `Last-Event-ID`)."""
    if handoff is not None:
        await asyncio.to_thread(service.store.get, handoff)  # 404 before the stream starts
    start = sse.last_event_id(request.headers.get("last-event-id"), after)
    return sse.response(agent_events(service, handoff, start))
