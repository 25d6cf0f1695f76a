"""Personal data: one redactor for everything the shop stores, shows to staff or logs.

Pure Python (no torch, no web framework), so the bot and the action server both import
it without importing each other.

>>> from privacy import redact
>>> redact("I'm Ann, call me on 555-0199")
"I'm [NAME], call me on [PHONE]"
"""

from privacy.logs import RedactingFilter, install_log_redaction
from privacy.redact import (
    MAX_CHARS,
    PLACEHOLDERS,
    Finding,
    PiiType,
    find,
    has_placeholder,
    luhn_valid,
    redact,
    redact_value,
)

__all__ = [
    "MAX_CHARS",
    "PLACEHOLDERS",
    "Finding",
    "PiiType",
    "RedactingFilter",
    "find",
    "has_placeholder",
    "install_log_redaction",
    "luhn_valid",
    "redact",
    "redact_value",
]
