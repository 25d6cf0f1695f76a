"""The chat bot: REST webhook, dialogue policy, transcript store, widget and review pages.

>>> from bot import create_app, get_settings  # doctest: +SKIP
>>> app = create_app(get_settings())  # doctest: +SKIP

The public names are imported on first use, so `shopintent --help` stays fast.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.app import create_app
    from bot.settings import BotSettings, get_settings
    from bot.store import TranscriptStore

_EXPORTS = {
    "create_app": "bot.app",
    "BotSettings": "bot.settings",
    "get_settings": "bot.settings",
    "TranscriptStore": "bot.store",
}

__all__ = ["BotSettings", "TranscriptStore", "create_app", "get_settings"]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'bot' has no attribute {name!r}")
