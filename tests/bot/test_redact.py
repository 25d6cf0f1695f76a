"""Personal data is removed from messages before they are stored or forwarded."""

from __future__ import annotations

import pytest

from bot.redact import luhn_valid, redact


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mail me at ann.lee+shop@example.co.uk", "mail me at [EMAIL]"),
        ("card 4111 1111 1111 1111 please", "card [CARD] please"),
        ("card 4111-1111-1111-1111", "card [CARD]"),
        ("amex 378282246310005", "amex [CARD]"),
        ("call +44 20 7946 0958 today", "call [PHONE] today"),
        ("call (555) 123-4567", "call [PHONE]"),
        ("my number is 555-123-4567", "my number is [PHONE]"),
        ("ring 07700900123", "ring [PHONE]"),
        ("where is my order 482913?", "where is my order 482913?"),
        ("order #482913 and #100245", "order #482913 and #100245"),
        ("it costs 19.99 or 2499.99", "it costs 19.99 or 2499.99"),
        ("delivered on 2024-01-15", "delivered on 2024-01-15"),
        ("hi 👋 مرحبا", "hi 👋 مرحبا"),
    ],
)
def test_redact_replaces_personal_data_and_keeps_order_numbers(text: str, expected: str) -> None:
    assert redact(text) == expected


def test_a_card_like_number_that_fails_luhn_is_not_called_a_card() -> None:
    assert "[CARD]" not in redact("ref 4111 1111 1111 1112")


@pytest.mark.parametrize(
    ("digits", "valid"),
    [("4111111111111111", True), ("4111111111111112", False), ("79927398713", True)],
)
def test_luhn_checksum(digits: str, valid: bool) -> None:
    assert luhn_valid(digits) is valid
