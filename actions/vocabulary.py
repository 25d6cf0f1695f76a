"""The catalog vocabulary search reads text with, and its typo correction.

Typos are corrected at the vocabulary level, and only non-words are: a word that is
neither in the catalog vocabulary nor an English word (`english_words`, inflections
included) is replaced by its closest vocabulary word (rapidfuzz ratio >= 80, 4+
letters). "mascra" becomes "mascara"; "cards" stays "cards" (not "cars"). The
vocabulary is loaded once per process and refreshed every few minutes, so a query
never scans the products table in Python.

The vocabulary also holds the phrases that name the catalog's categories: the forms
of each slug ("mens shoes", "mens shoe") and the everyday words of
`data/categories.yml` (`actions.categories`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from rapidfuzz import fuzz, process
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from actions.categories import category_synonyms
from actions.models import Product, SearchTerm
from actions.parsing import STOPWORDS

_VOCAB_TTL_S = 300.0
_FUZZY_CUTOFF = 80.0
_MIN_CORRECTED_LEN = 4
_STOPWORD_LIST = sorted(STOPWORDS)


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


ENGLISH_WORDS_FILE = Path(__file__).resolve().parent / "data" / "english_words.txt"


@lru_cache(maxsize=1)
def english_words() -> frozenset[str]:
    """Common English words: the whole-word entries of all-MiniLM-L6-v2's WordPiece vocabulary.

    About 21,000 lower-case words, shipped with the package in `data/english_words.txt`
    (so the action server needs no model package); inflected forms missing from it are
    recognised by `base_forms`.

    Raises:
        FileNotFoundError: The package is installed without its word list.
    """
    if not ENGLISH_WORDS_FILE.is_file():
        raise FileNotFoundError(
            f"expected the English word list at {ENGLISH_WORDS_FILE}, but it is missing; "
            "reinstall shopintent (the file ships inside the actions package)"
        )
    lines = ENGLISH_WORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(w for w in lines if w and not w.startswith("#"))


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
    """The phrases naming each of `categories`: the slug's own forms, then the file's words."""
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
    for phrase, slugs in category_synonyms().items():
        present = {s for s in slugs if s in known}
        if present:
            phrases.setdefault(phrase, set()).update(present)
    return {p: tuple(sorted(s)) for p, s in phrases.items()}
