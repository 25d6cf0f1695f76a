"""What shoppers call the catalog's categories: the phrases of `data/categories.yml`.

The file is the one list of category phrases; search reads it here, and
`scripts/build_training_data.py` reads the same file for the training data (the
file's header says which keys each reader uses). Search reads `phrases` and
`search_only`, spelt as shopper text is (`normalize`), in the file's order.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from actions.errors import CatalogSourceError
from actions.parsing import normalize

CATEGORIES_FILE = Path(__file__).resolve().parent / "data" / "categories.yml"
_KEYS = ("phrases", "search_only", "training_only")


def load_categories(path: Path = CATEGORIES_FILE) -> dict[str, dict[str, list[str]]]:
    """Read and check the category phrases file.

    Args:
        path: The YAML file (`categories:` mapping slug → `phrases`, `search_only`,
            `training_only`, each a list of phrases; only `phrases` is required).

    Returns:
        Per category slug, in file order, each of the three lists (empty when absent).

    Raises:
        CatalogSourceError: The file is missing or not in that shape.
    """
    try:
        data: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise CatalogSourceError(
            f"expected the category phrases at {path}, but it could not be read ({exc}); "
            "restore the file from the repository."
        ) from exc
    categories = data.get("categories") if isinstance(data, dict) else None
    if not isinstance(categories, dict) or not categories:
        raise CatalogSourceError(
            f"expected a `categories:` mapping of slug to phrases in {path}, but found "
            f"{type(categories).__name__}; restore the file from the repository."
        )
    result: dict[str, dict[str, list[str]]] = {}
    for slug, entry in categories.items():
        if not isinstance(entry, dict) or not set(entry) <= set(_KEYS) or "phrases" not in entry:
            raise CatalogSourceError(
                f"expected category {slug!r} in {path} to have `phrases` (and optionally "
                f"`search_only`, `training_only`), but found {entry!r}; fix that entry."
            )
        lists: dict[str, list[str]] = {}
        for key in _KEYS:
            values = entry.get(key, [])
            if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
                raise CatalogSourceError(
                    f"expected `{key}` of category {slug!r} in {path} to be a list of "
                    f"phrases, but found {values!r}; write it as [phrase, phrase, ...]."
                )
            lists[key] = values
        result[str(slug)] = lists
    return result


@lru_cache(maxsize=1)
def category_synonyms() -> dict[str, tuple[str, ...]]:
    """The phrases search reads as categories, each with its category slugs, in file order.

    Read from `CATEGORIES_FILE` once per process. A phrase of several categories
    ("shoes") names all of them.

    Raises:
        CatalogSourceError: The file is missing or malformed (see `load_categories`).
    """
    synonyms: dict[str, list[str]] = {}
    for slug, lists in load_categories().items():
        for phrase in [*lists["phrases"], *lists["search_only"]]:
            slugs = synonyms.setdefault(normalize(phrase), [])
            if slug not in slugs:
                slugs.append(slug)
    return {phrase: tuple(slugs) for phrase, slugs in synonyms.items()}
