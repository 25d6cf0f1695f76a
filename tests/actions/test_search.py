"""Catalog search, product resolution and recommendations on the seeded catalog."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from actions.search import (
    bought_together,
    resolve_product,
    search_products,
    similar_products,
    top_rated,
)


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
