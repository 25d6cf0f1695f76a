"""FastAPI dependencies of the live handoff's routes (built on `bot.deps`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from bot.deps import StateDep
from bot.handoff.errors import HandoffOffError
from bot.handoff.service import HandoffService


async def get_handoffs(state: StateDep) -> HandoffService:
    """The worker's handoff service (a FastAPI dependency; tests can override it).

    Raises:
        HandoffOffError: Live handoff is turned off, or the app has not started.
    """
    service = state.handoffs  # set by the app's lifespan when live handoff is on
    if service is None:
        raise HandoffOffError(
            "live handoff is off on this bot (SHOPINTENT_HANDOFF_LIVE=false): handoffs "
            "open tickets only"
        )
    return service


HandoffsDep = Annotated[HandoffService, Depends(get_handoffs)]
