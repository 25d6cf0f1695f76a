"""Entity extraction: regex extractors, price bounds, catalog lookups with typos, synonyms."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from nlu.entities import EntityExtractor, build_entity_config


@pytest.fixture(scope="module")
def extractor() -> EntityExtractor:
    config = build_entity_config(
        lookups={
            "product": ["Essence Mascara Lash Princess", "Annibale Colombo Sofa", "Apple AirPods"],
            "brand": ["Essence", "Apple", "Annibale Colombo"],
            "category": ["beauty", "furniture", "smartphones"],
        },
        synonyms={"phones": "smartphones", "airpods": "Apple AirPods"},
        regexes={"zip_code": [r"\b\d{5}-\d{4}\b"]},
        examples=[
            ("where is my order", "track_order", []),
            ("cancel my order now", "cancel_order", []),
            ("change my order please", "change_order", []),
        ],
    )
    return EntityExtractor.from_config(config)


def pairs(extractor: EntityExtractor, text: str) -> list[tuple[str, Any, str | None, str]]:
    return [
        (e["entity"], e["value"], e.get("role"), text[e["start"] : e["end"]])
        for e in extractor.extract(text)
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("where is my order 00123842?", [("order_id", "00123842", None, "00123842")]),
        ("track #4411 please", [("order_id", "4411", None, "4411")]),
        ("status of ORD-123", [("order_id", "ORD-123", None, "ORD-123")]),
        ("status of ord-123", [("order_id", "ORD-123", None, "ord-123")]),
        ("order number A-12345 is late", [("order_id", "A-12345", None, "A-12345")]),
        ("invoice INV-2023-001 is wrong", [("invoice_id", "INV-2023-001", None, "INV-2023-001")]),
        ("send invoice 88231 again", [("invoice_id", "88231", None, "88231")]),
        ("earbuds under $50", [("price", 50, "max", "under $50")]),
        ("something over 20 euros", [("price", 20, "min", "over 20 euros")]),
        ("at least 15.50 dollars", [("price", 15.5, "min", "at least 15.50 dollars")]),
        ("I paid $19.99", [("price", 19.99, None, "$19.99")]),
        (
            "mail me at jo.doe@example.com",
            [("email", "jo.doe@example.com", None, "jo.doe@example.com")],
        ),
        ("ship to 12345-6789", [("zip_code", "12345-6789", None, "12345-6789")]),
    ],
)
def test_regex_extractors_find_ids_prices_and_emails(
    extractor: EntityExtractor, text: str, expected: list[tuple[str, Any, str | None, str]]
) -> None:
    assert pairs(extractor, text) == expected


@pytest.mark.parametrize(
    ("text", "span"),
    [
        ("SI4829301746", "SI4829301746"),
        ("#SI4829301746", "SI4829301746"),
        ("order SI4829301746", "SI4829301746"),
        ("si4829301746", "si4829301746"),
        ("has SI4829301746 shipped yet?", "SI4829301746"),
        ("where is SO123456 now", "SO123456"),
    ],
)
def test_a_letter_prefix_and_digits_is_an_order_reference(
    extractor: EntityExtractor, text: str, span: str
) -> None:
    assert pairs(extractor, text) == [("order_id", span.upper(), None, span)]


def test_price_range_gives_min_and_max_roles(extractor: EntityExtractor) -> None:
    found = pairs(extractor, "a sofa between 200 and 500 dollars")

    prices = [(v, role) for entity, v, role, _ in found if entity == "price"]
    assert prices == [(200, "min"), (500, "max")]


@pytest.mark.parametrize(
    "text", ["more than 3 days late", "I ordered 2 items", "call me in 10 minutes", "hello"]
)
def test_numbers_that_are_not_prices_or_ids_are_left_alone(
    extractor: EntityExtractor, text: str
) -> None:
    assert [p for p in pairs(extractor, text) if p[0] in {"price", "order_id"}] == []


@pytest.mark.parametrize(
    ("text", "entity", "value", "span"),
    [
        (
            "is the Essence Mascara Lash Princess waterproof",
            "product",
            "Essence Mascara Lash Princess",
            "Essence Mascara Lash Princess",
        ),
        ("is the mascra waterproof?", "product", "mascara", "mascra"),
        ("anything from essense?", "brand", "Essence", "essense"),
        ("show me furnture", "category", "furniture", "furnture"),
        ("cheap phones please", "category", "smartphones", "phones"),
        ("do you sell airpods", "product", "Apple AirPods", "airpods"),
    ],
)
def test_catalog_lookups_match_exact_typo_and_synonym(
    extractor: EntityExtractor, text: str, entity: str, value: str, span: str
) -> None:
    assert (entity, value, None, span) in pairs(extractor, text)


def test_synonym_mapping_is_marked_with_processor(extractor: EntityExtractor) -> None:
    ent = next(e for e in extractor.extract("cheap phones please") if e["entity"] == "category")

    assert ent["processors"] == ["EntitySynonymMapper"]


def test_common_shop_words_never_fuzzy_match_catalog(extractor: EntityExtractor) -> None:
    assert extractor.extract("where is my order") == []


def test_entities_never_overlap_and_are_sorted(extractor: EntityExtractor) -> None:
    found = extractor.extract("order #4411: the mascra under $20, mail jo@x.io")

    spans = [(e["start"], e["end"]) for e in found]
    assert spans == sorted(spans)
    assert all(a_end <= b_start for (_, a_end), (b_start, _) in itertools.pairwise(spans))
    assert {e["entity"] for e in found} == {"order_id", "product", "price", "email"}


def test_bad_regex_from_data_is_skipped_not_fatal() -> None:
    extractor = EntityExtractor.from_config({"regexes": {"broken": ["(unclosed"]}})

    assert extractor.extract("hello (unclosed") == []
