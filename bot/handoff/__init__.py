"""Live handoff: a person from the support team answers in the shopper's widget.

A handoff (the shopper asked for a person, the bot failed twice, a complaint or a missing
parcel) puts the conversation in the queue (`waiting`); while it is `waiting` or
`with_agent` the shopper's messages go to the team instead of the dialogue policy. An
agent claims it in the console (`/agent`) or the API (`/api/agent`), replies, and
releases or closes it, and the bot answers again. Messages reach the widget live
(`/webhooks/rest/stream`, or `/webhooks/rest/poll`), across workers through PostgreSQL
`LISTEN/NOTIFY` or Redis pub/sub, with the database as the record. See docs/handoff.md.

`install(app)` adds the routes (their dependencies are in `bot.handoff.deps`); the app's
lifespan calls `start` and `HandoffService.aclose`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.handoff import models  # noqa: F401  (registers the tables on bot.store.Base)
from bot.handoff.service import HandoffService

if TYPE_CHECKING:
    from fastapi import FastAPI

    from bot.domain import Domain
    from bot.settings import BotSettings
    from bot.store import TranscriptStore


def install(app: FastAPI) -> None:
    """Add the agent console (`/agent`), its API (`/api/agent`) and the shopper's stream
    and poll routes (`/webhooks/rest/stream`, `/webhooks/rest/poll`) to the bot's app."""
    from bot.handoff import api, console, shopper

    app.include_router(api.router)
    app.include_router(console.router)
    app.include_router(shopper.router)


async def start(
    settings: BotSettings, domain: Domain, transcripts: TranscriptStore
) -> HandoffService:
    """Build and start the worker's handoff service (inside the app's event loop).

    Raises:
        DomainError: The domain lacks what the handoff says or asks.
        ValueError: The notify mode does not fit the database or Redis settings.
    """
    from bot.handoff.live import LiveHub, resolve_mode
    from bot.handoff.store import HandoffStore

    # The engine's URL, not the setting: a test may hand the app a store of its own.
    url = transcripts.engine.url.render_as_string(hide_password=False)
    mode = resolve_mode(settings.handoff_notify, url, settings.redis_url)
    hub = LiveHub(mode, url, settings.redis_url, settings.handoff_poll_s)
    store = HandoffStore(transcripts.engine, notify_in_sql=hub.mode == "postgres")
    service = HandoffService(
        store,
        hub,
        domain,
        transcripts,
        offer_email_after_s=settings.handoff_offer_email_after_s,
    )
    await service.start()
    return service


__all__ = ["HandoffService", "install", "start"]
