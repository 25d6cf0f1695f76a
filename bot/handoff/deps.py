"""FastAPI dependencies of the live handoff's routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from bot.handoff.errors import HandoffOffError
from bot.handoff.service import HandoffService


def get_handoffs(request: Request) -> HandoffService:
    """The worker's handoff service (a FastAPI dependency; tests can override it).

    Raises:
        HandoffOffError: Live handoff is turned off, or the app has not started.
    """
    service: HandoffService | None = request.app.state.handoffs  # set by bot.handoff.install
    if service is None:
        raise HandoffOffError(
            "live handoff is off on this bot (SHOPINTENT_HANDOFF_LIVE=false): handoffs "
            "open tickets only"
        )
    return service


Handoffs = Annotated[HandoffService, Depends(get_handoffs)]
