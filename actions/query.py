"""Reading a shopper's search text: terms for the full-text index, and filters.

Price, rating and stock bounds come from `actions.parsing.parse_bounds`; categories
(slugs and everyday words) and brands are cut out of the text as whole phrases, longest
first; the remaining content words are typo-corrected against the catalog vocabulary
(`actions.vocabulary`). The noun-phrase heads ("gift cards" → cards) tell later which
products are what was asked for.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from actions.parsing import STOPWORDS, content_terms, normalize, parse_bounds, tokens
from actions.vocabulary import Vocabulary

# Most content words of a text that search reads.
MAX_TERMS = 8
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
_PUNCTUATION_RE = re.compile(r"[^a-z0-9\s'-]+")


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
    for raw in content_terms(rest)[:MAX_TERMS]:
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
    words = (corrections.get(w, w) for w in content_terms(bounds.rest)[:MAX_TERMS])
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
