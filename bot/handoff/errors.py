"""Errors of the live handoff; `bot.app` maps every `BotError` to its HTTP status."""

from __future__ import annotations

from bot.errors import BotError


class HandoffNotFoundError(BotError, status_code=404, code="handoff_not_found"):
    """No handoff has the id the request names."""


class HandoffConflictError(BotError, status_code=409, code="handoff_conflict"):
    """The handoff is not in a state that allows this (claiming a claimed one, replying
    to one nobody claimed, ending one that has ended)."""


class HandoffOffError(BotError, status_code=404, code="handoff_off"):
    """Live handoff is turned off (`SHOPINTENT_HANDOFF_LIVE=false`)."""


class AgentCsrfError(BotError, status_code=403, code="csrf_failed"):
    """A logged-in agent's POST lacks its session's CSRF token (`X-CSRF-Token`)."""
