"""Server-Sent Events framing, the streams' response and route description, and their limits."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from fastapi.responses import StreamingResponse

# A stream ends after this long and the browser reconnects (resuming from its last id),
# so a worker that shuts down is not held open by its streams for long.
STREAM_MAX_S = 60.0
# A comment line this often keeps proxies from closing an idle stream.
KEEPALIVE_S = 15.0
# How long the browser waits before it reconnects (the `retry:` field), in ms.
RETRY_MS = 500
# An agent's "typing" lasts this long after their last keystroke report.
TYPING_S = 6.0
HEADERS = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
# A stream route's `responses=`: OpenAPI lists its 200 as `text/event-stream`.
ROUTE_RESPONSES: dict[int | str, dict[str, Any]] = {200: {"content": {"text/event-stream": {}}}}


def response(events: AsyncIterator[str]) -> StreamingResponse:
    """A stream of `events`, with the headers that keep caches and proxies from holding it."""
    return StreamingResponse(events, media_type="text/event-stream", headers=HEADERS)


def event(name: str, data: Any, event_id: int | None = None) -> str:
    """One SSE event; `id:` (a message's seq) is what `Last-Event-ID` resumes from."""
    head = f"id: {event_id}\n" if event_id is not None else ""
    payload = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return f"{head}event: {name}\ndata: {payload}\n\n"


def retry() -> str:
    """The stream's first line: how soon to reconnect."""
    return f"retry: {RETRY_MS}\n\n"


def keepalive() -> str:
    """A comment line (ignored by EventSource)."""
    return ": keepalive\n\n"


def last_event_id(header: str | None, after: int) -> int:
    """Where a stream starts: after the `Last-Event-ID` header or `after`, whichever is later."""
    try:
        given = int((header or "").strip() or 0)
    except ValueError:
        given = 0
    return max(0, after, given)
