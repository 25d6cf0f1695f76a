"""Orders as shoppers name them: numbers, lookups, ownership, return windows, masked addresses.

Shoppers see and type the order *number* (`SI` + 10 digits, drawn with `secrets`); the
integer `Order.id` is internal and never accepted from text. Failed lookups are
counted in `actions.lookup_failures`; changes (cancel, new address, the audit trail
and pending confirmations) are in `actions.order_changes`.

Every function takes an open session and leaves the commit to the caller.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, joinedload, selectinload

from actions.models import Invoice, Order, OrderLine, Shipment

_RETURN_DAYS_RE = re.compile(r"(\d+)\s*days?", re.IGNORECASE)

ORDER_NUMBER_PREFIX = "SI"
ORDER_NUMBER_DIGITS = 10
# How a shopper may write a number: any case, an optional "#", one dash or spaces
# after the prefix, single spaces between digits ("SI 4829 3017 46"). Shared with
# `actions.parsing`, which searches free text for it.
ORDER_NUMBER_PATTERN = (
    rf"#?\s?{ORDER_NUMBER_PREFIX}(?:-|\s{{1,3}})?\d(?:\s?\d){{{ORDER_NUMBER_DIGITS - 1}}}"
)
_ORDER_NUMBER_RE = re.compile(ORDER_NUMBER_PATTERN, re.IGNORECASE)
_MAX_REFERENCE_CHARS = 40

GENERIC_ADDRESS = "the address on the order"


def utcnow() -> datetime:
    """Naive UTC now, the convention of every stored timestamp."""
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


def new_order_number() -> str:
    """Draw a fresh order number, `SI` + 10 digits, from the `secrets` module.

    Not from the seeded RNG: each install gets its own numbers, so a public seed
    does not reveal them. The caller makes sure the number is not taken yet.

    >>> n = new_order_number()
    >>> n.startswith("SI") and len(n) == 12 and n[2:].isdigit()
    True
    """
    digits = secrets.randbelow(10**ORDER_NUMBER_DIGITS)
    return f"{ORDER_NUMBER_PREFIX}{digits:0{ORDER_NUMBER_DIGITS}d}"


def normalise_order_number(text: str | None) -> str | None:
    """The canonical form of an order number as a shopper wrote it, or None.

    Args:
        text: `si4829301746`, `#SI4829301746`, `SI-4829301746`, `SI 4829 3017 46`, ...

    Returns:
        `SI4829301746` (upper case, no separators), or None when `text` is not
        exactly an order number (an internal id, a 6-digit number, other words).

    >>> normalise_order_number("#si-4829301746")
    'SI4829301746'
    >>> normalise_order_number("123456") is None
    True
    """
    clean = (text or "").strip()
    if len(clean) > _MAX_REFERENCE_CHARS or not _ORDER_NUMBER_RE.fullmatch(clean):
        return None
    digits = "".join(ch for ch in clean if ch.isdigit())
    return f"{ORDER_NUMBER_PREFIX}{digits}"


def _with_details(query: Select[Order]) -> Select[Order]:
    # One-to-one parts ride along in the order's own query (JOIN); collections come in
    # one query each: 4 queries per order instead of 8, which was most of an order
    # action's CPU.
    return query.options(
        joinedload(Order.shipment).selectinload(Shipment.events),
        joinedload(Order.invoice),
        joinedload(Order.customer),
        selectinload(Order.lines).joinedload(OrderLine.product),
        selectinload(Order.refunds),
    )


def find_order(session: Session, reference: str | None) -> Order | None:
    """Load an order by its number, with lines, products, shipment, refunds and invoice.

    Args:
        session: Open session.
        reference: The order number as the shopper wrote it (see `normalise_order_number`).

    Returns:
        The order, or None when `reference` is not an order number or no order has it.
    """
    number = normalise_order_number(reference)
    if number is None:
        return None
    return session.scalars(_with_details(select(Order).where(Order.number == number))).first()


_INVOICE_RE = re.compile(r"INV-?(\d{4})-?(\d{1,12})", re.IGNORECASE)


def find_order_by_invoice(session: Session, reference: str | None) -> Order | None:
    """Find an order by invoice number ("INV-2026-482913") or by its order number.

    Args:
        session: Open session.
        reference: What the shopper gave as the invoice number.

    Returns:
        The order, or None when no invoice has that number and it is not a known
        order number either (bare digits are neither).
    """
    clean = (reference or "").strip().lstrip("#").strip()[:_MAX_REFERENCE_CHARS]
    m = _INVOICE_RE.fullmatch(clean)
    if m:
        number = f"INV-{m.group(1)}-{m.group(2)}"
        order_id = session.scalar(select(Invoice.order_id).where(Invoice.number == number))
        if order_id is None:
            return None
        return session.scalars(_with_details(select(Order).where(Order.id == order_id))).first()
    return find_order(session, clean)


def orders_of_customer(session: Session, customer_id: str, limit: int = 5) -> list[Order]:
    """The newest orders of a customer, with the same details as `find_order`.

    Args:
        session: Open session.
        customer_id: The customer's id as text (the JWT `sub`); anything that is not
            exactly the decimal form of an id ("42", not "042" or "42 ") finds nothing.
        limit: Most orders to return.

    Returns:
        Up to `limit` orders, newest (`placed_at`) first; [] for an unknown customer.

    Raises:
        ValueError: `limit` is below 1.
    """
    if limit < 1:
        raise ValueError(f"expected limit to be at least 1, but found {limit}.")
    key = _customer_key(customer_id)
    if key is None:
        return []
    query = _with_details(
        select(Order)
        .where(Order.customer_id == key)
        .order_by(Order.placed_at.desc(), Order.id.desc())
        .limit(limit)
    )
    return list(session.scalars(query))


def _customer_key(customer_id: str | None) -> int | None:
    text = customer_id or ""
    if not (0 < len(text) <= 18 and text.isascii() and text.isdigit()):
        return None
    key = int(text)
    return key if str(key) == text else None


def owned_by(order: Order, customer_id: str | None) -> bool:
    """Whether `order` belongs to the customer whose id (JWT `sub`) is `customer_id`."""
    key = _customer_key(customer_id)
    return key is not None and order.customer_id == key


def _normalise_email(email: str | None) -> bytes:
    return (email or "").strip().casefold().encode("utf-8")


def email_matches(order: Order, email: str | None) -> bool:
    """Whether `email` is the e-mail of the order's customer (case and spaces ignored).

    The comparison is constant-time (`hmac.compare_digest`), so response times do not
    tell a guesser how much of an address was right.

    Args:
        order: The order (its `customer` is loaded on access).
        email: What the shopper typed; None or blank never matches.
    """
    given = _normalise_email(email)
    if not given:
        return False
    stored = _normalise_email(order.customer.email if order.customer else None)
    return bool(stored) and hmac.compare_digest(given, stored)


def fit_key(value: str, size: int) -> str:
    """`value` if it fits a column of `size` characters, else a digest, the same every time."""
    if len(value) <= size:
        return value
    return "sha256:" + hashlib.sha256(value.encode("utf-8")).hexdigest()[: size - 7]


def return_days(policy: str) -> int | None:
    """Days allowed for a return by a policy text ("30 days return policy" → 30; none → None)."""
    m = _RETURN_DAYS_RE.search(policy or "")
    return int(m.group(1)) if m else None


def return_deadline(order: Order, policy: str) -> datetime | None:
    """The last day a delivered order's product can be returned under `policy`."""
    days = return_days(policy)
    if days is None or order.delivered_at is None:
        return None
    return order.delivered_at + timedelta(days=days)


_STREET_WORDS = frozenset(
    [
        "st",
        "street",
        "ave",
        "avenue",
        "rd",
        "road",
        "ln",
        "lane",
        "dr",
        "drive",
        "blvd",
        "boulevard",
        "way",
        "ct",
        "court",
        "pl",
        "place",
        "hwy",
        "highway",
        "ter",
        "terrace",
        "pkwy",
        "parkway",
        "apt",
        "apartment",
        "suite",
        "ste",
        "unit",
        "flat",
        "floor",
        "po",
        "box",
    ]
)
_CITY_RE = re.compile(r"[^\W\d_]+(?:[ .'-]+[^\W\d_]+)*")
_REGION_POSTCODE_RE = re.compile(
    r"(?P<region>[^\W\d_]+(?:[ .'-]+[^\W\d_]+)*)\s+"
    r"(?P<postcode>(?=[A-Z0-9]*\d)[A-Z0-9]{2,5}(?:[ -][A-Z0-9]{2,4})?)"
)


def mask_address(address: str) -> str:
    """The city and postcode of an address, without the street or house number.

    Args:
        address: An address shaped like the seed's, "<number> <street>, <city>,
            <region> <postcode>" (or "<street>, <city> <postcode>").

    Returns:
        "<city>, <region> <postcode>", or `GENERIC_ADDRESS` when the shape is not
        recognised (so nothing of the street can leak).

    >>> mask_address("1234 Oak Street, Springfield, IL 62704")
    'Springfield, IL 62704'
    >>> mask_address("somewhere nice")
    'the address on the order'
    """
    parts = [p.strip() for p in (address or "")[:500].split(",") if p.strip()]
    if len(parts) < 2:
        return GENERIC_ADDRESS
    tail = _REGION_POSTCODE_RE.fullmatch(parts[-1])
    if tail is None or _has_street_word(tail.group("region")):
        return GENERIC_ADDRESS
    masked = f"{tail.group('region')} {tail.group('postcode')}"
    city = parts[-2]
    if len(parts) >= 3 and _CITY_RE.fullmatch(city) and not _has_street_word(city):
        return f"{city}, {masked}"
    return masked


def _has_street_word(text: str) -> bool:
    return any(word.strip(".") in _STREET_WORDS for word in text.lower().split())
