"""Log records are redacted before a handler writes them."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from privacy import RedactingFilter, install_log_redaction


@pytest.fixture
def stream_logger() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    """A logger `privacy-test` writing to a string, removed again after the test."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger = logging.getLogger("privacy-test")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        yield logger, stream
    finally:
        logger.removeHandler(handler)
        logger.filters.clear()


def test_the_filter_redacts_the_formatted_message_and_drops_the_arguments() -> None:
    record = logging.LogRecord(
        "x", logging.INFO, __file__, 1, "user %s said %r", ("ann@example.com", "pin 1234"), None
    )
    assert RedactingFilter().filter(record) is True
    assert record.getMessage() == "user [EMAIL] said 'pin [SECRET]'"
    assert record.args is None


def test_installed_redaction_covers_child_loggers_and_exception_text(
    stream_logger: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = stream_logger
    install_log_redaction(["privacy-test"])
    install_log_redaction(["privacy-test"])  # twice is harmless
    logger.info("call %s", "555-0199")
    child = logging.getLogger("privacy-test.child")
    try:
        raise ValueError("bad address 12 Oak Street, Springfield, IL 62704")
    except ValueError:
        child.exception("lookup failed for ann@example.com")
    written = stream.getvalue()
    assert "555-0199" not in written and "call [PHONE]" in written
    assert "ann@example.com" not in written and "[EMAIL]" in written
    assert "12 Oak Street" not in written and "ValueError: bad address [ADDRESS]" in written
    assert sum(isinstance(f, RedactingFilter) for f in logger.filters) == 1


def test_uvicorn_access_lines_are_redacted_and_still_formatted() -> None:
    from uvicorn.logging import AccessFormatter

    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        "h11_impl.py",
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", "/track?email=ann@example.com", "1.1", 200),
        None,
    )

    assert RedactingFilter().filter(record)
    line = AccessFormatter("%(message)s", use_colors=False).format(record)

    assert "ann@example.com" not in line
    assert '"GET /track?email=[EMAIL] HTTP/1.1" 200' in line
