"""Redaction for the bot: a re-export of the shared redactor in `privacy`.

The bot and the action server redact with the same rules, which live in
`privacy.redact`; this module only keeps `from bot.redact import redact` working.
"""

from __future__ import annotations

from privacy import find, luhn_valid, redact

__all__ = ["find", "luhn_valid", "redact"]
