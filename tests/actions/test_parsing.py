"""Reading shopper text: bounds, order numbers, addresses, comparisons, PII."""

from __future__ import annotations

import pytest

from actions.parsing import (
    ORDER_ID_RE,
    detect_attribute,
    extract_address,
    extract_order_id,
    normalize,
    parse_bounds,
    redact_pii,
    split_comparison,
)


@pytest.mark.parametrize(
    ("text", "min_price", "max_price", "min_rating", "rest"),
    [
        ("wireless earphones under 100", None, 100.0, None, ["wireless", "earphones"]),
        ("laptops between $500 and $1500", 500.0, 1500.0, None, ["laptops"]),
        ("phones over 300 with at least 4 stars", 300.0, None, 4.0, ["phones", "with"]),
        ("top rated mens shoes under 80 dollars", None, 80.0, 4.0, ["mens", "shoes"]),
        ("perfume 4.5+", None, None, 4.5, ["perfume"]),
        ("women's bags $50-$200", 50.0, 200.0, None, ["womens", "bags"]),
        ("a watch for less than 99.99 usd", None, 99.99, None, ["a", "watch"]),
        ("rated 4 and up", None, None, 4.0, ["and", "up"]),
        ("a lamp around $80", 60.0, 100.0, None, ["a", "lamp"]),
        ("kitchenware more than $75.00", 75.0, None, None, ["kitchenware"]),
        ("dresses up to 25 bucks", None, 25.0, None, ["dresses"]),
    ],
)
def test_parse_bounds_reads_price_and_rating_phrases(
    text: str,
    min_price: float | None,
    max_price: float | None,
    min_rating: float | None,
    rest: list[str],
) -> None:
    bounds = parse_bounds(normalize(text))
    assert (bounds.min_price, bounds.max_price, bounds.min_rating) == (
        min_price,
        max_price,
        min_rating,
    )
    assert bounds.rest.split() == rest


def test_parse_bounds_reads_in_stock() -> None:
    assert parse_bounds("chairs in stock").in_stock_only


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("where is my order SI4829301746?", "SI4829301746"),
        ("where is my order #SI4829301746?", "SI4829301746"),
        ("order si4829301746 please", "SI4829301746"),
        ("has SI-4829301746 shipped", "SI4829301746"),
        ("it's SI 4829 3017 46, thanks", "SI4829301746"),
        ("#si-4829301746", "SI4829301746"),
        # A number after "order" comes back as typed, so the reply can say it is unknown.
        ("where is my order #123456?", "123456"),
        ("order 654321 please", "654321"),
        ("my order number is 12", "12"),
        ("order SI48293017 is late", None),
        ("XSI4829301746 is a model name", None),
        ("no number here", None),
        ("call me at 5551234567", None),
        ("", None),
    ],
)
def test_extract_order_id_finds_the_number_a_shopper_types(text: str, expected: str | None) -> None:
    assert extract_order_id(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "change the address of order SI4829301746 to 42 Baker Street, London",
            "42 Baker Street, London",
        ),
        ("ship SI4829301746 to 42 Baker Street, London", "42 Baker Street, London"),
        ("deliver to 42 Baker Street, London SI4829301746", "42 Baker Street, London"),
        ("ship it to 10 Downing St, SW1A 2AA", "10 Downing St, SW1A 2AA"),
        ("change my address", None),
        ("to me", None),
    ],
)
def test_extract_address_needs_a_number_and_a_street(text: str, expected: str | None) -> None:
    assert extract_address(text) == expected


@pytest.mark.parametrize(
    ("text", "attribute"),
    [
        ("how much is it", "price"),
        ("is it in stock?", "stock"),
        ("what warranty does it have", "warranty"),
        ("how long does shipping take", "shipping"),
        ("can I return it", "returns"),
        ("is it rated well", "rating"),
        ("tell me about the iphone", None),
    ],
)
def test_detect_attribute_names_what_is_asked(text: str, attribute: str | None) -> None:
    assert detect_attribute(text) == attribute


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("compare iphone x vs samsung galaxy s8", ["iphone x", "samsung galaxy s8"]),
        ("which is better, the airpods or the beats flex?", ["the airpods", "the beats flex"]),
        ("difference between oppo k1 and realme x", ["oppo k1", "realme x"]),
    ],
)
def test_split_comparison_finds_both_products(text: str, parts: list[str]) -> None:
    assert split_comparison(text) == parts


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mail me at jo.doe@example.com", "mail me at [EMAIL]"),
        ("card 4111 1111 1111 1111 thanks", "card [CARD] thanks"),
        ("card 4111 1111 1111 1112 fails luhn", "card 4111 1111 1111 1112 fails luhn"),
        ("call +44 20 7946 0958", "call [PHONE]"),
        ("order 123456 is late", "order 123456 is late"),
        ("order SI4829301746 is late", "order SI4829301746 is late"),
    ],
)
def test_redact_pii_masks_emails_cards_and_phones(text: str, expected: str) -> None:
    assert redact_pii(text) == expected


def test_normalize_truncates_long_input() -> None:
    assert len(normalize("x" * 10_000)) == 500


def test_order_id_re_finds_the_reference_as_written() -> None:
    match = ORDER_ID_RE.search("is #SI-4829301746 shipped?")
    assert match is not None and match.group(1) == "#SI-4829301746"
