"""Read the DummyJSON catalog and the category phrases shared with search.

Each product gets the shortened names people type for it (`annibale sofa`, `homepod
mini`) and the nouns for `the mascara`-style mentions; the phrasings and the lookup
tables use both.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from .config import ROOT, TrainingDataError, require_source


@dataclass(frozen=True)
class Product:
    """The catalog fields the phrasings need."""

    title: str
    brand: str | None
    category: str
    price: float
    aliases: tuple[str, ...]
    nouns: tuple[str, ...]


# Shared with search: each category's phrases live in `actions/data/categories.yml`
# (its header says which keys each reader uses). The builder samples `phrases`, then
# `training_only`, by position, so their order is part of the output.
CATEGORIES_FILE = ROOT / "actions" / "data" / "categories.yml"


def load_category_words(path: Path = CATEGORIES_FILE) -> dict[str, list[str]]:
    """The phrases the builder uses for each category slug, in file order.

    Args:
        path: The category phrases file shared with search.

    Returns:
        Per slug, its `phrases` followed by its `training_only` phrases.

    Raises:
        TrainingDataError: The file is missing or a category has no `phrases` list.
    """
    if not path.is_file():
        raise TrainingDataError(
            f"expected the category phrases (shared with search) at {path}, but it was not "
            "found; restore actions/data/categories.yml from git"
        )
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    categories = data.get("categories") if isinstance(data, dict) else None
    if not isinstance(categories, dict) or not categories:
        raise TrainingDataError(
            f"expected a `categories:` mapping of slug to phrases in {path}, but found "
            f"{type(categories).__name__}; restore the file from git"
        )
    words: dict[str, list[str]] = {}
    for slug, entry in categories.items():
        phrases = entry.get("phrases") if isinstance(entry, dict) else None
        extra = entry.get("training_only", []) if isinstance(entry, dict) else None
        if not isinstance(phrases, list) or not phrases or not isinstance(extra, list):
            raise TrainingDataError(
                f"expected category {slug!r} in {path} to have a non-empty `phrases` list "
                f"(and optionally a `training_only` list), but found {entry!r}; fix that entry"
            )
        words[str(slug)] = [str(w) for w in [*phrases, *extra]]
    return words


CATEGORY_WORDS = load_category_words()


# Words that end a title without naming the thing: colours, sizes, filler.
TRAILING_WORDS = {
    "black", "white", "red", "grey", "gray", "gold", "silver", "plum", "starlight", "yellow",
    "blue", "green", "brown", "cosmic", "space", "with", "and", "de", "eau", "for", "&",
    "inch", "14", "women", "men", "woman", "man", "off",
}  # fmt: skip
# Last words that are model names or filler, not a noun a person would say `the ...` to.
NOT_NOUNS = {
    "touring", "pro", "plus", "max", "rwd", "princess", "dial", "date", "automatic", "steel",
    "collection", "moonphase", "datejust", "cellini", "mini", "case", "bloom", "noir", "shine",
    "pea", "starlight", "colombo", "jadore", "j'adore", "leaves", "cherry", "bathroom",
    "cream", "wash", "magsafe", "iphone", "one", "leather",
}  # fmt: skip
SPORTS = {"tennis", "cricket", "golf", "baseball", "basketball", "football", "volleyball"}


def _strip_trailing(words: list[str]) -> list[str]:
    out = list(words)
    while len(out) > 1 and out[-1].lower() in TRAILING_WORDS:
        out.pop()
    return out


def _singular(word: str) -> str:
    if word.endswith(("ches", "shes", "xes", "sses")):
        return word[:-2]
    return word[:-1] if word.endswith("s") and not word.endswith("ss") else word


def _head_noun(title: str) -> str | None:
    """The noun a title is about, lower-cased: `Silver Pot With Glass Cap` -> `pot`."""
    words = title.split()
    lowered = [w.lower() for w in words]
    if "with" in lowered and lowered.index("with") > 0:
        words = words[: lowered.index("with")]
    head = _strip_trailing(words)[-1].lower()
    if not head.isalpha() or len(head) < 3 or head in NOT_NOUNS:
        return None
    if head in SPORTS and len(words) > 1:
        return None
    return head


def _product_aliases(title: str, brand: str | None, common: set[str]) -> tuple[str, ...]:
    """Shortened forms people type for a product: `annibale sofa`, `homepod mini`, ...

    Args:
        title: The catalog title.
        brand: The catalog brand, if any.
        common: Generic nouns (singular tags); a one-word alias must not be one of them,
            so `sofa` never becomes a name for one particular sofa.
    """
    words = title.split()
    forms = [title]
    if words[0].lower() == "new" and len(words) > 2:
        words = words[1:]
        forms.append(" ".join(words))
    stripped = _strip_trailing(words)
    if len(stripped) >= 2 or _singular(stripped[0].lower()) not in common:
        forms.append(" ".join(stripped))
    lower = " ".join(words).lower()
    if brand and lower.startswith(brand.lower() + " "):
        rest = _strip_trailing(words[len(brand.split()) :])
        if len(rest) >= 2 or (
            rest and _singular(rest[0].lower()) not in common and len(rest[0]) >= 4
        ):
            forms.append(" ".join(rest))
    head = _head_noun(title)
    if brand and brand.lower() in lower and head:
        first = brand.split()[0] if len(brand.split()[0]) > 3 else brand
        if first.lower() != head:
            forms.append(f"{first} {head.title()}")
    out: list[str] = []
    for form in forms:
        if form and form.lower() not in {f.lower() for f in out}:
            out.append(form)
    return tuple(out)


def _product_nouns(title: str, brand: str | None, tags: Sequence[str]) -> tuple[str, ...]:
    """Nouns for `the mascara`-style mentions: the title's head noun and matching tags."""
    lower_words = [w.lower() for w in title.split()]
    brand_words = {w.lower() for w in (brand or "").split()}
    nouns: list[str] = []
    for tag in tags:
        for candidate in (tag.lower(), _singular(tag.lower())):
            if (
                candidate in lower_words
                and len(candidate) > 3
                and candidate not in brand_words
                and candidate not in NOT_NOUNS
                and (candidate not in SPORTS or len(lower_words) == 1)
            ):
                nouns.append(candidate)
                break
    head = _head_noun(title)
    if head and head not in brand_words:
        nouns.append(head)
    return tuple(dict.fromkeys(nouns))


def load_catalog(sources: Path) -> list[Product]:
    """Read the DummyJSON catalog into `Product` records with their typed aliases.

    Args:
        sources: The `training_data/sources` directory.

    Returns:
        The products, de-duplicated on the title, in catalog order.

    Raises:
        TrainingDataError: The catalog copy is missing or has an unknown category.
    """
    path = sources / "dummyjson-catalog" / "products.json"
    require_source(path, "the DummyJSON catalog")
    raw = json.loads(path.read_text(encoding="utf-8"))
    items = raw["products"] if isinstance(raw, dict) else raw
    products: list[Product] = []
    titles: set[str] = set()
    common = {_singular(w.lower()) for item in items for t in item.get("tags", []) for w in [t]}
    common |= {_singular(t.split()[-1].lower()) for item in items for t in item.get("tags", [])}
    for item in items:
        title = " ".join(str(item["title"]).split())
        if title.lower() in titles:
            continue
        titles.add(title.lower())
        category = str(item["category"])
        if category not in CATEGORY_WORDS:
            raise TrainingDataError(
                f"expected a category from {sorted(CATEGORY_WORDS)}, but product {title!r} "
                f"has {category!r}; add its phrases to {CATEGORIES_FILE.relative_to(ROOT)}"
            )
        brand = item.get("brand") or None
        tags = [str(t) for t in item.get("tags", [])]
        products.append(
            Product(
                title=title,
                brand=brand,
                category=category,
                price=float(item["price"]),
                aliases=_product_aliases(title, brand, common),
                nouns=_product_nouns(title, brand, tags),
            )
        )
    return products
