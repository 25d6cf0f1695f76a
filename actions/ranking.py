"""The documented product ranking, as SQL on the database's full-text index.

Ranking (documented in docs/actions.md):

1. Out-of-stock products go last: a shopper cannot buy them today.
2. Relevance: SQLite FTS5 BM25 with column weights title 10, brand 6, category 3,
   tags 4, description 1 (PostgreSQL: `ts_rank_cd` over a tsvector weighted A/A/B/B/D).
   Scores are rounded to one decimal so near-equal matches count as ties.
3. Ties: higher rating first, then the lower id (stable order).

Queries select the columns of `ProductHit` (`product_select`), take the filters of
a `Filters` (`apply_filters`) and are read back with `fetch_hits`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Numeric,
    Select,
    and_,
    case,
    cast,
    func,
    literal_column,
    or_,
    select,
    table,
    text,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnClause

from actions.models import Product
from actions.query import Filters
from actions.types import ProductCard

OUT_OF_STOCK = "Out of Stock"


@dataclass(frozen=True)
class ProductHit:
    """A product returned by search, with the fields replies need."""

    id: int
    title: str
    brand: str | None
    category: str
    price: float
    rating: float
    availability: str
    stock: int

    def card(self) -> ProductCard:
        """The product card sent in `custom.products`."""
        return ProductCard(
            id=self.id,
            title=self.title,
            brand=self.brand,
            price=self.price,
            rating=self.rating,
            availability=self.availability,
        )


ProductSelect = Select[int, str, str | None, str, float, float, str, int]


def product_select() -> ProductSelect:
    """Select the product columns replies need (the order `fetch_hits` reads them in)."""
    return select(
        Product.id,
        Product.title,
        Product.brand,
        Product.category,
        Product.price,
        Product.rating,
        Product.availability,
        Product.stock,
    )


def apply_filters(query: ProductSelect, filters: Filters) -> ProductSelect:
    """Add the WHERE clauses of `filters` (category, brand, price, rating, stock, ids)."""
    if filters.categories:
        query = query.where(Product.category.in_(filters.categories))
    if filters.brands:
        query = query.where(Product.brand.in_(filters.brands))
    if filters.min_price is not None:
        query = query.where(Product.price >= filters.min_price)
    if filters.max_price is not None:
        query = query.where(Product.price <= filters.max_price)
    if filters.min_rating is not None:
        query = query.where(Product.rating >= filters.min_rating)
    if filters.in_stock_only:
        query = query.where(Product.availability != OUT_OF_STOCK, Product.stock > 0)
    if filters.exclude_ids:
        query = query.where(Product.id.not_in(filters.exclude_ids))
    return query


def fetch_hits(session: Session, query: ProductSelect) -> list[ProductHit]:
    """Run a `product_select` query and read its rows as hits, in the query's order."""
    return [
        ProductHit(
            id=int(row[0]),
            title=str(row[1]),
            brand=row[2],
            category=str(row[3]),
            price=float(row[4]),
            rating=float(row[5]),
            availability=str(row[6]),
            stock=int(row[7]),
        )
        for row in session.execute(query)
    ]


_oos_last = case((Product.availability == OUT_OF_STOCK, 1), else_=0)


def fulltext_query(
    session: Session, terms: Sequence[str], *, any_term: bool, boost_category: str | None = None
) -> ProductSelect:
    """A select of product columns matching `terms`, ordered by the documented ranking."""
    dialect = session.get_bind().dialect.name
    safe = [t for t in terms if re.fullmatch(r"[a-z0-9]+", t)]
    boost = (
        [] if boost_category is None else [case((Product.category == boost_category, 0), else_=1)]
    )
    if dialect == "sqlite":
        joiner = " OR " if any_term else " AND "
        match = joiner.join(f'"{t}"*' if len(t) >= 3 else f'"{t}"' for t in safe)
        fts = table("products_fts", literal_column("rowid"))
        score: ColumnClause[float] = literal_column("bm25(products_fts, 10.0, 6.0, 3.0, 4.0, 1.0)")
        return (
            product_select()
            .join(fts, literal_column("products_fts.rowid") == Product.id)
            .where(text("products_fts MATCH :match").bindparams(match=match))
            .order_by(_oos_last, *boost, func.round(score, 1), Product.rating.desc(), Product.id)
        )
    if dialect == "postgresql":
        joiner = " | " if any_term else " & "
        tsq = joiner.join(f"{t}:*" for t in safe)
        query_vec = func.to_tsquery("english", tsq)
        vector: ColumnClause[Any] = literal_column("products.search_vector")
        rank = func.ts_rank_cd(vector, query_vec)
        return (
            product_select()
            .where(vector.op("@@")(query_vec))
            .order_by(
                _oos_last,
                *boost,
                func.round(cast(rank, Numeric), 2).desc(),
                Product.rating.desc(),
                Product.id,
            )
        )
    # Other databases: a LIKE scan per term, fine for small catalogs only.
    conditions = [
        or_(
            Product.title.ilike(f"%{t}%"),
            Product.brand.ilike(f"%{t}%"),
            Product.category.ilike(f"%{t}%"),
        )
        for t in safe
    ]
    combined = or_(*conditions) if any_term else and_(*conditions)
    return (
        product_select()
        .where(combined)
        .order_by(_oos_last, *boost, Product.rating.desc(), Product.id)
    )


def browse_query() -> ProductSelect:
    """All products in browse order: out-of-stock ones last, then by rating, then by id."""
    return product_select().order_by(_oos_last, Product.rating.desc(), Product.id)
