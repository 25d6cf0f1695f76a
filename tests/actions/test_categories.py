"""The category phrases file: one source for search and for the training-data builder."""

from __future__ import annotations

from pathlib import Path

import pytest

from actions.categories import CATEGORIES_FILE, category_synonyms, load_categories
from actions.errors import CatalogSourceError
from actions.parsing import normalize
from tests.conftest import load_builder


def test_search_reads_every_phrase_and_search_only_phrase_as_its_category() -> None:
    synonyms = category_synonyms()
    for slug, lists in load_categories().items():
        for phrase in [*lists["phrases"], *lists["search_only"]]:
            assert slug in synonyms[normalize(phrase)]


def test_search_does_not_read_training_only_phrases() -> None:
    synonyms = category_synonyms()
    assert "cell phones" not in synonyms
    assert synonyms["cell phone"] == ("smartphones",)


def test_a_phrase_of_two_categories_names_both() -> None:
    assert category_synonyms()["shoes"] == ("mens-shoes", "womens-shoes")


def test_the_training_data_builder_reads_the_same_file() -> None:
    builder = load_builder()
    assert builder.CATEGORIES_FILE == CATEGORIES_FILE
    expected = {
        slug: [*lists["phrases"], *lists["training_only"]]
        for slug, lists in load_categories().items()
    }
    assert expected == builder.CATEGORY_WORDS


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[]\n", "expected a `categories:` mapping"),
        ("categories:\n  tops: {search_only: [tees]}\n", "to have `phrases`"),
        ("categories:\n  tops: {phrases: tops}\n", "to be a list of phrases"),
    ],
)
def test_a_malformed_file_says_what_was_expected(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "categories.yml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CatalogSourceError, match=message):
        load_categories(path)


def test_a_missing_file_says_how_to_restore_it(tmp_path: Path) -> None:
    with pytest.raises(CatalogSourceError, match="restore the file"):
        load_categories(tmp_path / "missing.yml")
