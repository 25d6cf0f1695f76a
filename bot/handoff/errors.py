"""Errors of the live handoff; `bot.app` maps every `BotError` to its HTTP status."""

from __future__ import annotations

from bot.errors import BotError


class HandoffNotFoundError(BotError):
    """No handoff has the id the request names."""

    status_code = 404
    code = "handoff_not_found"


class HandoffConflictError(BotError):
    """The handoff is not in a state that allows this (claiming a claimed one, replying
    to one nobody claimed, ending one that has ended)."""

    status_code = 409
    code = "handoff_conflict"


class HandoffOffError(BotError):
    """Live handoff is turned off (`SHOPINTENT_HANDOFF_LIVE=false`)."""

    status_code = 404
    code = "handoff_off"


class AgentCsrfError(BotError):
    """A logged-in agent's POST lacks its session's CSRF token (`X-CSRF-Token`)."""

    status_code = 403
    code = "csrf_failed"
