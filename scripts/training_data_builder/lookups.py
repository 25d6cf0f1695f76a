"""The lookup tables (products, brands, categories) and synonyms of `nlu/lookups.yml`."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from .catalog import CATEGORY_WORDS, Product


def build_lookups(products: Sequence[Product]) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """Lookup tables (product, brand, category) and synonyms (canonical value -> aliases).

    A product alias becomes a synonym only when exactly one product has it, so the
    synonym never silently picks one of two products. A category phrase is an alias of
    every category that lists it (`shoes` of both `mens-shoes` and `womens-shoes`).
    """
    lookups = {
        "product": sorted({p.title for p in products}, key=str.lower),
        "brand": sorted({p.brand for p in products if p.brand}, key=str.lower),
        "category": sorted({w for words in CATEGORY_WORDS.values() for w in words}),
    }
    owners: dict[str, set[str]] = defaultdict(set)
    for p in products:
        for alias in p.aliases[1:]:
            owners[alias.lower()].add(p.title)
    synonyms: dict[str, list[str]] = defaultdict(list)
    all_titles = {p.title.lower() for p in products}
    for alias, titles in sorted(owners.items()):
        if len(titles) == 1 and alias not in all_titles:
            (title,) = titles
            if alias != title.lower():
                synonyms[title].append(alias)
    for slug, words in CATEGORY_WORDS.items():
        synonyms[slug].extend(w for w in words if w != slug)
    return lookups, {k: sorted(set(v)) for k, v in sorted(synonyms.items())}
