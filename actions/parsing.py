"""Reading shopper text: order numbers, price and rating bounds, attributes, addresses.

Pure functions with no database access. Every regex here is linear-time and every
input is truncated first, so quotes, SQL fragments or kilobytes of junk are just text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from actions.orders import ORDER_NUMBER_PATTERN, normalise_order_number
from privacy import redact

MAX_TEXT_CHARS = 500
# An order number in free text; group 1 is the reference as written (pass it through
# `normalise_order_number` for the canonical form).
ORDER_ID_RE = re.compile(rf"(?<![A-Za-z0-9])({ORDER_NUMBER_PATTERN})(?!\d)", re.IGNORECASE)
# Possessive `\s*+`: three adjacent optional runs of spaces made a miss cubic (0.7 s at 500).
_LOOSE_ORDER_RE = re.compile(
    r"\border\s*+(?:(?:number|no\.?|num|id)\s*+)?(?:is\s++)?[:#]?\s*+(\d{1,12})(?!\d)"
)
_TOKEN_RE = re.compile(r"[a-z0-9]+")
_NUM = r"\$?\s*(\d{1,7}(?:[.,]\d{1,2})?)\s*(?:\$|usd|dollars?|bucks)?"
_NOT_RATING = r"(?!\s*(?:\+|stars?|star\b|/5|out of 5))"
_MAX_PRICE_RE = re.compile(
    r"\b(?:under|below|less than|cheaper than|up to|at most|no more than|max(?:imum)?|"
    r"within|budget(?: of| is)?|not over|for less than)\s+" + _NUM + _NOT_RATING
)
_MAX_PRICE_AFTER_RE = re.compile(_NUM + r"\s+(?:or less|or under|max(?:imum)?|or cheaper)\b")
_MIN_PRICE_RE = re.compile(
    r"\b(?:over|above|more than|at least|from|min(?:imum)?|starting at)\s+" + _NUM + _NOT_RATING
)
_ABOUT_RE = re.compile(
    r"\b(?:about|around|roughly|approximately|approx\.?|near)\s+" + _NUM + _NOT_RATING
)
_RANGE_RE = re.compile(r"\bbetween\s+" + _NUM + r"\s+(?:and|to|-)\s+" + _NUM)
_DASH_RANGE_RE = re.compile(
    r"\$\s*(\d{1,7}(?:\.\d{1,2})?)\s*(?:-|to)\s*\$?\s*(\d{1,7}(?:\.\d{1,2})?)"
)
_RATING_RES = [
    re.compile(
        r"\b(?:rated|rating|ratings?\s+of)\s+(?:at least|above|over|of|>=?)?\s*([0-5](?:\.\d)?)(?:\s*\+|\s*stars?\b|\b)"
    ),
    re.compile(
        r"\b(?:at least\s+)?([0-5](?:\.\d)?)\s*(?:\+\s*)?stars?(?:\s+(?:and up|or more|or better|plus))?"
    ),
    re.compile(r"\b([0-5](?:\.\d)?)\s*\+"),
]
_HIGHLY_RATED_RE = re.compile(r"\b(?:top|best|highly|well|highest)[\s-]rated\b|\bbest reviewed\b")
_IN_STOCK_RE = re.compile(r"\b(?:in stock|available now|available today)\b")
_APOSTROPHE_RE = re.compile(r"\b(men|women|kid)'?s\b")

STOPWORDS = frozenset(
    [
        "a",
        "about",
        "all",
        "also",
        "am",
        "an",
        "and",
        "any",
        "anything",
        "are",
        "as",
        "at",
        "available",
        "be",
        "been",
        "best",
        "buy",
        "by",
        "can",
        "cheap",
        "cheapest",
        "could",
        "do",
        "does",
        "find",
        "for",
        "from",
        "get",
        "give",
        "good",
        "got",
        "have",
        "hello",
        "help",
        "hey",
        "hi",
        "how",
        "i",
        "id",
        "i'd",
        "im",
        "in",
        "is",
        "it",
        "item",
        "items",
        "its",
        "just",
        "like",
        "looking",
        "me",
        "mine",
        "more",
        "most",
        "much",
        "my",
        "need",
        "of",
        "on",
        "one",
        "or",
        "other",
        "our",
        "please",
        "product",
        "products",
        "recommend",
        "recommendation",
        "recommendations",
        "sell",
        "selling",
        "show",
        "similar",
        "so",
        "some",
        "something",
        "suggest",
        "suggestions",
        "tell",
        "that",
        "the",
        "there",
        "these",
        "thing",
        "things",
        "this",
        "to",
        "u",
        "want",
        "wanted",
        "what",
        "whats",
        "which",
        "with",
        "would",
        "you",
        "your",
        "s",
        "t",
        "any",
        "anything",
        "buy",
        "cost",
        "costs",
        "price",
        "prices",
        "info",
        "information",
        "details",
        "detail",
        "about",
        "know",
        "compare",
        "comparison",
        "versus",
        "vs",
        "between",
        "difference",
        "better",
        "than",
        "search",
        "looking",
        "look",
        "shop",
        "store",
        "do",
        "dont",
        "don't",
        "got",
        "stuff",
    ]
)

ATTRIBUTE_WORDS: dict[str, tuple[str, ...]] = {
    "price": ("price", "cost", "costs", "how much", "expensive", "cheap", "discount", "sale"),
    "stock": ("in stock", "stock", "available", "availability", "sold out", "left"),
    "warranty": ("warranty", "guarantee", "guaranteed"),
    "shipping": ("shipping", "ship", "ships", "delivery", "deliver", "arrive", "dispatch"),
    "returns": ("return", "returns", "refund", "send back", "exchange"),
    "rating": ("rating", "rated", "reviews", "review", "stars", "any good"),
    "size": ("dimensions", "size", "weight", "how big", "how heavy"),
}
ATTRIBUTE_TERMS = frozenset(
    w for words in ATTRIBUTE_WORDS.values() for phrase in words for w in phrase.split()
)


def normalize(text: str | None) -> str:
    """Lower-case, truncate to `MAX_TEXT_CHARS`, and spell possessives as catalog slugs do."""
    clean = (text or "")[:MAX_TEXT_CHARS].lower().replace("\u2019", "'")
    return _APOSTROPHE_RE.sub(r"\1s", clean)


def tokens(text: str) -> list[str]:
    """Split normalised text into `[a-z0-9]+` words (nothing else reaches SQL)."""
    return _TOKEN_RE.findall(text)


def content_terms(text: str, *, drop_attributes: bool = False) -> list[str]:
    """The words of `text` that can name a product: no stopwords (and no attribute words)."""
    drop = STOPWORDS | ATTRIBUTE_TERMS if drop_attributes else STOPWORDS
    return [t for t in tokens(normalize(text)) if t not in drop]


def extract_order_id(text: str | None) -> str | None:
    """Find an order number in free text.

    Prefers an order number (`SI` + 10 digits, in any case, after `#`, with a dash or
    spaces), returned in canonical form; otherwise a number written after "order"
    (which the caller will then report as unknown rather than silently ignore).

    >>> extract_order_id("where is my order #si-4829301746?")
    'SI4829301746'
    >>> extract_order_id("my order number is 123456")
    '123456'
    """
    clean = (text or "")[:2000]
    match = ORDER_ID_RE.search(clean)
    if match:
        return normalise_order_number(match.group(1))
    loose = _LOOSE_ORDER_RE.search(clean.lower())
    return loose.group(1) if loose else None


def _amount(raw: str) -> float:
    return float(raw.replace(",", "."))


@dataclass
class PriceRating:
    """Bounds read from text, and the text with those phrases removed."""

    min_price: float | None = None
    max_price: float | None = None
    min_rating: float | None = None
    in_stock_only: bool = False
    rest: str = ""
    phrases: list[str] = field(default_factory=list)


def parse_bounds(text: str) -> PriceRating:
    """Read price bounds ("under $50", "between 10 and 20", "around 80"), a rating, "in stock".

    Args:
        text: Normalised shopper text (see `normalize`).

    Returns:
        The bounds found and the remaining text.

    >>> b = parse_bounds("wireless earphones under $100 rated 4+")
    >>> (b.max_price, b.min_rating, b.rest.split())
    (100.0, 4.0, ['wireless', 'earphones'])
    """
    out = PriceRating()
    rest = text

    def cut(match: re.Match[str]) -> str:
        out.phrases.append(match.group(0).strip())
        return " "

    def first(pattern: re.Pattern[str]) -> re.Match[str] | None:
        return pattern.search(rest)

    if m := first(_RANGE_RE) or first(_DASH_RANGE_RE):
        low, high = sorted((_amount(m.group(1)), _amount(m.group(2))))
        out.min_price, out.max_price = low, high
        rest = rest[: m.start()] + cut(m) + rest[m.end() :]
    if out.max_price is None and (m := first(_ABOUT_RE)):
        # "around $80": a band of ±25 % around the amount.
        amount = _amount(m.group(1))
        out.min_price, out.max_price = round(amount * 0.75, 2), round(amount * 1.25, 2)
        rest = rest[: m.start()] + cut(m) + rest[m.end() :]
    if out.max_price is None and (m := first(_MAX_PRICE_RE) or first(_MAX_PRICE_AFTER_RE)):
        out.max_price = _amount(m.group(1))
        rest = rest[: m.start()] + cut(m) + rest[m.end() :]
    for pattern in _RATING_RES:
        if m := first(pattern):
            value = float(m.group(1))
            if 0 < value <= 5:
                out.min_rating = value
                rest = rest[: m.start()] + cut(m) + rest[m.end() :]
                break
    if out.min_rating is None and (m := first(_HIGHLY_RATED_RE)):
        out.min_rating = 4.0
        rest = rest[: m.start()] + cut(m) + rest[m.end() :]
    if out.min_price is None and (m := first(_MIN_PRICE_RE)):
        out.min_price = _amount(m.group(1))
        rest = rest[: m.start()] + cut(m) + rest[m.end() :]
    if m := first(_IN_STOCK_RE):
        out.in_stock_only = True
        rest = rest[: m.start()] + cut(m) + rest[m.end() :]
    out.rest = rest
    return out


def detect_attribute(text: str) -> str | None:
    """Which product attribute the shopper asks about (price, stock, warranty, ...), if any."""
    clean = normalize(text)
    best: tuple[int, str] | None = None
    for attribute, phrases in ATTRIBUTE_WORDS.items():
        for phrase in phrases:
            m = re.search(rf"\b{re.escape(phrase)}\b", clean)
            if m and (best is None or m.start() < best[0]):
                best = (m.start(), attribute)
    return best[1] if best else None


_COMPARE_SPLIT_RE = re.compile(r"\s+(?:vs\.?|versus|or|and|with|against|to)\s+|\s*,\s*")
_COMPARE_LEAD_RE = re.compile(
    r"^.*?\b(?:compare|comparison of|difference between|differences between|better)\b:?\s*"
)


def split_comparison(text: str) -> list[str]:
    """Split "compare X with Y" / "X vs Y" into the product phrases.

    >>> split_comparison("Compare the iPhone X vs Samsung Galaxy S8")
    ['the iphone x', 'samsung galaxy s8']
    """
    clean = normalize(text).strip(" ?!.")
    clean = _COMPARE_LEAD_RE.sub("", clean)
    parts = [p.strip(" ?!.:") for p in _COMPARE_SPLIT_RE.split(clean)]
    return [p for p in parts if content_terms(p)]


_ADDRESS_RE = re.compile(
    r"(?:new address(?: is)?|address to|ship (?:it )?to|send (?:it )?to|deliver (?:it )?to|"
    r"change (?:it )?to|update (?:it )?to|\bto)\s*:?\s+(.+)$",
    re.IGNORECASE,
)


def extract_address(text: str | None) -> str | None:
    """Find a postal address after "to ..." / "new address: ..." (it needs a number and a word)."""
    clean = (text or "")[:MAX_TEXT_CHARS].strip()
    m = _ADDRESS_RE.search(clean)
    if not m:
        return None
    candidate = ORDER_ID_RE.sub("", m.group(1)).strip(" .,!?")
    if (
        re.search(r"\d", candidate)
        and re.search(r"[A-Za-z]{3,}", candidate)
        and len(candidate) >= 8
    ):
        return candidate[:300]
    return None


def redact_pii(text: str) -> str:
    """Replace personal data with typed placeholders; the shared redactor, `privacy.redact`.

    Kept for callers of the old name. The rules (and what they leave alone, such as
    order numbers) are documented in `privacy.redact`.

    >>> redact_pii("call +1 (555) 123-4567 or mail jo@x.com, card 4111 1111 1111 1111")
    'call [PHONE] or mail [EMAIL], card [CARD]'
    """
    return redact(text)
