"""The shopper's side: agent (and bot) messages pushed to the widget, streamed or polled.

- `GET /webhooks/rest/stream?sender=ID`: Server-Sent Events. `message` events carry
  `{"seq", "from": "bot"|"agent", "text", "agent"?, "buttons"?, "at"}` with `id: <seq>`,
  so a reconnecting EventSource resumes with `Last-Event-ID`; `state` events say
  `{"state": "waiting"|"with_agent"|"bot", "agent", "handoff"}`; `typing` events say an
  agent is typing.
- `GET /webhooks/rest/poll?sender=ID&after=N`: the same messages for clients without
  streaming: `{"messages": [...], "last": N, "state": ..., "agent": ...}`.

Both accept only the conversation's own signed id (as the webhook does) or the webhook
token (`Authorization: Bearer`, or `?token=` where a header cannot be set).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from bot.deps import ConversationsDep, ServerCallerDep, SettingsDep
from bot.errors import InvalidSenderError, MissingSenderError
from bot.handoff import sse
from bot.handoff.deps import HandoffsDep
from bot.handoff.service import HandoffService, shopper_state, wire_message
from bot.handoff.store import HandoffRow, conv_topic


class PushedMessage(BaseModel):
    """A message the bot or an agent pushed to the shopper."""

    seq: int = Field(description="position in the conversation's handoff messages; resume after it")
    from_: str = Field(serialization_alias="from", description="bot | agent")
    text: str
    agent: str | None = Field(None, description="the agent's display name, on agent messages")
    buttons: list[dict[str, str]] | None = None
    at: str


class PollOut(BaseModel):
    """New messages since `after`; send `last` as the next `after`."""

    messages: list[PushedMessage]
    last: int
    state: str = Field(description="waiting | with_agent | bot")
    agent: str | None = None


def _state(handoff: HandoffRow | None) -> dict[str, Any]:
    return {
        "state": shopper_state(handoff),
        "agent": handoff.agent if handoff is not None and handoff.is_open else None,
        "handoff": handoff.id if handoff is not None else None,
    }


async def shopper_events(
    service: HandoffService, sender: str, after: int, max_s: float = sse.STREAM_MAX_S
) -> AsyncIterator[str]:
    """The shopper's event stream, from `after` (blocks between events)."""
    yield sse.retry()
    last = after
    sent_state: dict[str, Any] | None = None
    sent_typing: datetime | None = None
    deadline = time.monotonic() + max_s
    with service.hub.watch((conv_topic(sender),)) as watch:
        while True:
            feed = await asyncio.to_thread(service.store.shopper_feed, sender, last)
            for row in feed.messages:
                yield sse.event("message", wire_message(row), row.seq)
            last = feed.last_seq
            state = _state(feed.handoff)
            if state != sent_state:
                yield sse.event("state", state)
                sent_state = state
            typing = feed.handoff.typing_at if feed.handoff is not None else None
            if (
                typing is not None
                and typing != sent_typing
                and (datetime.now(UTC) - typing).total_seconds() < sse.TYPING_S
                and state["state"] == "with_agent"
            ):
                yield sse.event("typing", {"agent": state["agent"]})
                sent_typing = typing
            left = deadline - time.monotonic()
            if left <= 0:
                return
            if not await watch.wait(min(service.hub.check_every_s, sse.KEEPALIVE_S, left)):
                yield sse.keepalive()


router = APIRouter(prefix="/webhooks/rest", tags=["handoff"])


@dataclass(frozen=True)
class FeedQuery:
    """Where a shopper's stream or poll reads from: the conversation and the seq to start after."""

    sender: str
    after: int


async def feed_query(
    server: ServerCallerDep,
    settings: SettingsDep,
    conversations: ConversationsDep,
    sender: str = "",
    after: Annotated[int, Query(ge=0)] = 0,
) -> FeedQuery:
    """The `?sender=` and `?after=` of a stream or poll, the sender checked as the webhook's.

    Raises:
        MissingSenderError: No sender.
        InvalidSenderError: Too long, or not a conversation id this bot issued (and the
            caller is no server holding the webhook token).
    """
    if not sender.strip():
        raise MissingSenderError(
            "expected `?sender=`: the conversation id from POST /webhooks/rest/session"
        )
    if len(sender) > settings.max_sender_chars:
        raise InvalidSenderError(
            f"expected a sender id of at most {settings.max_sender_chars} characters, found "
            f"{len(sender)}; use the id from POST /webhooks/rest/session"
        )
    if not server and not conversations.valid(sender):
        raise InvalidSenderError(
            "this conversation id was not issued by this bot (or has been signed with "
            "another secret); get one from POST /webhooks/rest/session"
        )
    return FeedQuery(sender, after)


FeedQueryDep = Annotated[FeedQuery, Depends(feed_query)]


@router.get("/stream", response_class=StreamingResponse, responses=sse.ROUTE_RESPONSES)
async def stream(
    service: HandoffsDep,
    query: FeedQueryDep,
    last_event_id: Annotated[str | None, Header()] = None,
) -> StreamingResponse:
    """Server-Sent Events of the conversation's bot and agent messages (see module doc).

    A reconnecting EventSource sends `Last-Event-ID`; `after` does the same for a
    page that opens a new stream.
    """
    start = sse.last_event_id(last_event_id, query.after)
    return sse.response(shopper_events(service, query.sender, start))


@router.get("/poll", response_model=PollOut)
async def poll(service: HandoffsDep, query: FeedQueryDep) -> PollOut:
    """Messages the bot or an agent pushed since `after`, for clients without streaming."""
    feed = await asyncio.to_thread(service.store.shopper_feed, query.sender, query.after)
    state = _state(feed.handoff)
    return PollOut(
        messages=[PushedMessage(**_pushed(wire_message(r))) for r in feed.messages],
        last=feed.last_seq,
        state=state["state"],
        agent=state["agent"],
    )


def _pushed(message: dict[str, Any]) -> dict[str, Any]:
    return {**{k: v for k, v in message.items() if k != "from"}, "from_": message["from"]}
