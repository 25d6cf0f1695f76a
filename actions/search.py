"""Catalog search, product resolution and recommendations on the database's full-text index.

A search reads the text (`actions.query`), ranks matches (`actions.ranking`) and
relaxes the query step by step when nothing matches (`search_parsed`).

All terms must match (AND, with prefix matching); if nothing does, products that match
some terms are offered only when they are close: their name (title, brand, category,
tags) has the word that names the kind of product asked for ("cards" in "gift cards"),
or more than half of the words. A query for something the catalog does not have gets
no products, never a random one. Typos are corrected against the catalog vocabulary
(`actions.vocabulary`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from rapidfuzz import fuzz
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from actions.models import CartLine, OrderLine, Product
from actions.parsing import content_terms, normalize, tokens
from actions.query import MAX_TERMS, Filters, ParsedQuery, parse_query
from actions.ranking import (
    OUT_OF_STOCK,
    ProductHit,
    apply_filters,
    browse_query,
    fetch_hits,
    fulltext_query,
    product_select,
)
from actions.vocabulary import Vocabulary, names_word, vocabulary

_CANDIDATES = 30


@dataclass(frozen=True)
class SearchResult:
    """Ranked hits plus how the query was read."""

    hits: list[ProductHit]
    query: ParsedQuery
    relaxed: bool = False  # the hits are the closest products, not matches of every word
    browsed: bool = False  # no word matched: the hits are the top of the category or brand


@dataclass(frozen=True)
class Resolution:
    """The product a phrase names, or the close candidates when it is ambiguous."""

    product: ProductHit | None
    candidates: list[ProductHit]
    phrase: str
    ambiguous: bool = False


def search_products(session: Session, text_query: str, *, limit: int = 5) -> SearchResult:
    """Rank products for free text, with filters read from the text.

    Args:
        session: Open session on the store.
        text_query: What the shopper typed, e.g. "wireless earphones under $100".
        limit: Most products to return.

    Returns:
        The hits, best first, and how the text was read.

    >>> search_products(session, "wireless earphones under 100").hits[0].title  # doctest: +SKIP
    'Beats Flex Wireless Earphones'
    """
    parsed = parse_query(text_query, vocabulary(session))
    return search_parsed(session, parsed, limit=limit)


def search_parsed(session: Session, parsed: ParsedQuery, *, limit: int = 5) -> SearchResult:
    """Run a parsed query, relaxing it step by step when nothing matches.

    Order of relaxation: all terms → all terms plus the category words instead of the
    category filter ("phone case") → the closest products: any term, kept only when the
    product's name has a head word or most of the words (see `_closest`) → brand words
    as terms instead of a brand filter (the result's `query` then reads them as terms)
    → the top-rated products of the category/brand without the words, unless a category
    or brand word only qualifies another noun ("nice laptops", not "car tyres"). Price,
    rating and stock bounds are never relaxed. An empty result means nothing fits.
    """
    filters = parsed.filters
    if not parsed.terms:
        if not (
            filters.categories
            or filters.brands
            or filters.max_price
            or filters.min_price
            or filters.min_rating
        ):
            return SearchResult(hits=[], query=parsed)
        hits = fetch_hits(session, apply_filters(browse_query(), filters).limit(limit))
        return SearchResult(hits=hits, query=parsed)
    vocab = vocabulary(session)
    attempts: list[tuple[tuple[str, ...], Filters]] = [(parsed.terms, filters)]
    if filters.categories and parsed.category_words:
        # "phone case": the category word may describe the product rather than its category.
        attempts.append(((*parsed.terms, *parsed.category_words), replace(filters, categories=())))
    for terms, attempt_filters in attempts:
        query = fulltext_query(session, terms, any_term=False)
        hits = fetch_hits(session, apply_filters(query, attempt_filters).limit(limit))
        if hits:
            return SearchResult(hits=hits, query=parsed)
    hits = _closest(session, parsed, vocab, limit=limit)
    if hits:
        return SearchResult(hits=hits, query=parsed, relaxed=True)
    if filters.brands:
        # A brand word may also name a product line ("apple" the fruit): retry as terms.
        extra = tuple(t for b in filters.brands for t in tokens(b.lower()))
        loose = replace(filters, brands=())
        query = fulltext_query(session, [*parsed.terms, *extra], any_term=False)
        hits = fetch_hits(session, apply_filters(query, loose).limit(limit))
        if hits:
            as_terms = replace(parsed, terms=(*parsed.terms, *extra), filters=loose)
            return SearchResult(hits=hits, query=as_terms)
    if (filters.categories or filters.brands) and not parsed.qualified:
        # The words matched nothing there ("something nice"): the best of the category.
        hits = fetch_hits(session, apply_filters(browse_query(), filters).limit(limit))
        if hits:
            return SearchResult(hits=hits, query=parsed, relaxed=True, browsed=True)
    return SearchResult(hits=[], query=parsed)


def _closest(
    session: Session, parsed: ParsedQuery, vocab: Vocabulary, *, limit: int
) -> list[ProductHit]:
    """Products matching any informative term whose name shows they are what was asked for.

    A candidate is close when its name words (title, brand, category, tags) contain the
    head of one of the shopper's noun phrases ("garden hoses": a hose, not a plant pot
    whose description says garden), or more than half of the terms ("iphone 13 pro
    max": the iPhone 13 Pro), or when the category or brand filter, which still applies,
    names the kind of product ("something nice" in laptops, not "car tyres").
    """
    query = fulltext_query(session, vocab.informative(parsed.terms), any_term=True)
    candidates = fetch_hits(session, apply_filters(query, parsed.filters).limit(_CANDIDATES))
    if not candidates:
        return []
    kind_named = bool(parsed.filters.categories or parsed.filters.brands) and not parsed.qualified
    names = _name_words(session, [c.id for c in candidates])
    close: list[ProductHit] = []
    for hit in candidates:
        words = names.get(hit.id, set())
        matched = [t for t in parsed.terms if names_word(t, words, vocab)]
        heads = any(h in matched for h in parsed.heads)
        if kind_named or heads or 2 * len(matched) > len(parsed.terms):
            close.append(hit)
    return close[:limit]


def _name_words(session: Session, ids: Sequence[int]) -> dict[int, set[str]]:
    """The words of each product's title, brand, category and tags."""
    rows = session.execute(
        select(Product.id, Product.title, Product.brand, Product.category, Product.tags).where(
            Product.id.in_(ids)
        )
    )
    return {
        int(pid): set(tokens(normalize(" ".join([title, brand or "", category, *(tags or [])]))))
        for pid, title, brand, category, tags in rows
    }


def resolve_product(
    session: Session,
    phrase: str,
    *,
    brand: str | None = None,
    candidates: int = 30,
) -> Resolution:
    """Find the product a phrase names, tolerant of typos and partial names.

    Full-text candidates (all corrected terms; if none match, any informative term; prefix
    match, BM25 order) are re-ranked
    with rapidfuzz against "brand title"; only those candidates are scored.

    Args:
        session: Open session on the store.
        phrase: A product entity value or the shopper's text.
        brand: A brand entity value, if the NLU found one.
        candidates: How many full-text candidates to re-rank.

    Returns:
        The product (or None), plus close alternatives; `ambiguous` when several fit equally.

    >>> resolve_product(session, "mascra").product.title  # doctest: +SKIP
    'Essence Mascara Lash Princess'
    """
    vocab = vocabulary(session)
    raw_terms = content_terms(f"{brand or ''} {phrase}", drop_attributes=True)[:MAX_TERMS]
    terms: list[str] = []
    for raw in raw_terms:
        fixed = vocab.read(raw)
        if fixed is not None and fixed not in terms:
            terms.append(fixed)
    query_text = " ".join(terms)
    if not terms:
        return Resolution(product=None, candidates=[], phrase=phrase.strip()[:80])
    hits = fetch_hits(session, fulltext_query(session, terms, any_term=False).limit(candidates))
    if not hits:
        or_terms = vocab.informative(terms)
        hits = fetch_hits(
            session, fulltext_query(session, or_terms, any_term=True).limit(candidates)
        )
    scored: list[tuple[float, int, ProductHit]] = []
    for rank, hit in enumerate(hits):
        name = normalize(f"{hit.brand or ''} {hit.title}")
        name_terms = set(tokens(name))
        coverage = sum(1 for t in terms if names_word(t, name_terms, vocab)) / len(terms)
        if coverage < 0.5:
            continue
        title = normalize(hit.title)
        score = (
            0.5 * fuzz.token_set_ratio(query_text, name)
            + 0.3
            * max(fuzz.token_sort_ratio(query_text, title), fuzz.token_sort_ratio(query_text, name))
            + 20.0 * coverage
            - 0.1 * rank
        )
        scored.append((score, -rank, hit))
    scored.sort(key=lambda s: (s[0], s[1]), reverse=True)
    ranked = [hit for _, _, hit in scored]
    if not ranked or scored[0][0] < 55:
        return Resolution(product=None, candidates=ranked[:3], phrase=query_text)
    best_score = scored[0][0]
    close = [hit for score, _, hit in scored if best_score - score < 4.0]
    exact = fuzz.token_sort_ratio(query_text, normalize(ranked[0].title)) >= 95
    if len(close) > 1 and not exact:
        return Resolution(product=None, candidates=close[:4], phrase=query_text, ambiguous=True)
    return Resolution(product=ranked[0], candidates=ranked[1:4], phrase=query_text)


def get_product(session: Session, product_id: int) -> ProductHit | None:
    """Return one product by id."""
    hits = fetch_hits(session, product_select().where(Product.id == product_id))
    return hits[0] if hits else None


def similar_products(
    session: Session, product_id: int, *, limit: int = 4, max_price: float | None = None
) -> list[ProductHit]:
    """Products whose title and tags read like this one's, same category first."""
    product = session.get(Product, product_id)
    if product is None:
        return []
    words = tokens(normalize(" ".join([product.title, *(product.tags or [])])))
    terms = [w for w in dict.fromkeys(content_terms(" ".join(words))) if len(w) > 1]
    terms = vocabulary(session).informative(terms)[:MAX_TERMS]
    if not terms:
        return top_rated(
            session,
            categories=(product.category,),
            limit=limit,
            max_price=max_price,
            exclude_ids=(product_id,),
        )
    query = fulltext_query(session, terms, any_term=True, boost_category=product.category)
    filters = Filters(max_price=max_price, exclude_ids=(product_id,))
    return fetch_hits(session, apply_filters(query, filters).limit(limit))


def bought_together(
    session: Session, product_id: int, *, limit: int = 4, max_price: float | None = None
) -> list[ProductHit]:
    """Products that share orders or carts with this one, most often first."""
    counts: dict[int, int] = {}
    pairs = (
        (OrderLine.order_id, OrderLine.product_id),
        (CartLine.cart_id, CartLine.product_id),
    )
    for basket, item in pairs:
        baskets = select(basket.label("basket")).where(item == product_id).subquery()
        co_bought = (
            select(item, func.count())
            .join(baskets, baskets.c.basket == basket)
            .where(item != product_id)
            .group_by(item)
        )
        for pid, n in session.execute(co_bought):
            counts[int(pid)] = counts.get(int(pid), 0) + int(n)
    if not counts:
        return []
    filters = Filters(max_price=max_price)
    query = apply_filters(product_select().where(Product.id.in_(list(counts))), filters)
    hits = fetch_hits(session, query)
    hits.sort(key=lambda h: (h.availability == OUT_OF_STOCK, -counts[h.id], -h.rating, h.id))
    return hits[:limit]


def top_rated(
    session: Session,
    *,
    categories: Sequence[str] = (),
    limit: int = 5,
    max_price: float | None = None,
    min_price: float | None = None,
    exclude_ids: Sequence[int] = (),
) -> list[ProductHit]:
    """The best-rated products (in stock first) of some categories, within a budget."""
    filters = Filters(
        categories=tuple(categories),
        max_price=max_price,
        min_price=min_price,
        exclude_ids=tuple(exclude_ids),
    )
    return fetch_hits(session, apply_filters(browse_query(), filters).limit(limit))
