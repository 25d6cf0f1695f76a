"""Remove personal data from shopper messages before anything stores or forwards them.

Emails, phone numbers and card numbers (13-19 digits that pass the Luhn check)
become placeholders. Short numbers such as order ids are kept, because the
dialogue needs them and they identify an order, not a person.
"""

from __future__ import annotations

import re

EMAIL_PLACEHOLDER = "[EMAIL]"
PHONE_PLACEHOLDER = "[PHONE]"
CARD_PLACEHOLDER = "[CARD]"

_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")
# Digit runs with optional single spaces or dashes between groups: card candidates.
_CARD = re.compile(r"(?<![\d])\d(?:[ \-]?\d){12,18}(?![\d])")
# A phone number: optional +country code, then 7+ digits with separators, or
# a bare run of 10-15 digits. Bare runs shorter than 10 stay (order ids, prices).
_PHONE = re.compile(
    r"(?<![\w+])(?:"
    r"\+\d{1,3}[ .\-]?(?:\(\d{1,4}\)[ .\-]?)?\d(?:[ .\-]?\d){5,13}"
    r"|\(\d{2,4}\)[ .\-]?\d(?:[ .\-]?\d){5,11}"
    r"|\d{2,4}[ .\-]\d{2,4}[ .\-]\d{3,5}(?:[ .\-]\d{2,5})?"
    # National formats with a trunk 0: "06 12 34 56 78" (FR), "07700 900123" (UK).
    r"|0\d(?:[ .\-]\d{2}){4}"
    r"|0\d{3,4}[ .\-]\d{6}"
    r"|\d{10,15}"
    r")(?![\w])"
)


def luhn_valid(digits: str) -> bool:
    """Tell whether a string of digits passes the Luhn checksum used by card numbers.

    Args:
        digits: Only the digits of the candidate number.

    Returns:
        True when the checksum is right.

    >>> luhn_valid("4111111111111111")
    True
    """
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def _replace_card(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group(0))
    return CARD_PLACEHOLDER if luhn_valid(digits) else match.group(0)


def redact(text: str) -> str:
    """Replace emails, phone numbers and Luhn-valid card numbers with placeholders.

    Args:
        text: A shopper's message.

    Returns:
        The message with `[EMAIL]`, `[PHONE]` and `[CARD]` in place of personal data.

    >>> redact("mail me at ann@example.com or call +44 20 7946 0958")
    'mail me at [EMAIL] or call [PHONE]'
    """
    text = _EMAIL.sub(EMAIL_PLACEHOLDER, text)
    text = _CARD.sub(_replace_card, text)
    return _PHONE.sub(PHONE_PLACEHOLDER, text)
