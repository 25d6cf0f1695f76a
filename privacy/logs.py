"""A logging filter that redacts personal data from log records before any handler sees them."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from privacy.redact import redact

# Loggers of the bot (uvicorn) and the action server (sanic, rasa-sdk), and our packages.
DEFAULT_LOGGERS = (
    "",
    "bot",
    "actions",
    "nlu",
    "shopintent",
    "uvicorn",
    "uvicorn.error",
    "uvicorn.access",
    "sanic.root",
    "sanic.error",
    "sanic.access",
    "rasa_sdk",
)


class RedactingFilter(logging.Filter):
    """Redacts a record's message, its exception text and its stack before it is emitted.

    The message is formatted once (`record.getMessage()`), redacted, and stored back
    with no arguments, so handlers and formatters only ever see the redacted text.

    >>> record = logging.LogRecord("x", logging.INFO, "f", 1, "mail %s", ("ann@example.com",), None)
    >>> RedactingFilter().filter(record), record.getMessage()
    (True, 'mail [EMAIL]')
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact the record in place; never drops it."""
        if getattr(record, "_redacted", False):
            return True
        if record.name == "uvicorn.access" and isinstance(record.args, tuple):
            # uvicorn's access formatter unpacks (client, method, path, version, status)
            # from the arguments: redact each text argument and keep the tuple.
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
            record._redacted = True
            return True
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: keep what the caller wrote
            message = str(record.msg)
        record.msg = redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        record._redacted = True
        return True


_FILTER = RedactingFilter()


def install_log_redaction(logger_names: Iterable[str] = DEFAULT_LOGGERS) -> None:
    """Add the redacting filter to these loggers, their handlers and Python's last-resort handler.

    A filter on a logger sees only the records logged to that very logger, and a filter
    on a handler sees every record the handler emits, so both are set. Call it after
    logging is configured (uvicorn and sanic configure theirs at start-up); calling it
    again is harmless.

    Args:
        logger_names: Logger names; `""` is the root logger.
    """
    handlers: list[logging.Handler] = []
    for name in logger_names:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
        handlers.extend(logger.handlers)
    if logging.lastResort is not None:
        handlers.append(logging.lastResort)
    for handler in handlers:
        if _FILTER not in handler.filters:
            handler.addFilter(_FILTER)
