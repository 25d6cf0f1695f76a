"""Checks on the shipped training data and on the script that builds it.

The YAML is read with plain PyYAML and a small annotation regex, independent of
`nlu.data`, so these tests judge the data itself.
"""

from __future__ import annotations

import csv
import json
import re
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest
import yaml

from tests.conftest import load_builder

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "training_data"
SOURCES = DATA / "sources"
TRAIN_FILES = sorted((DATA / "nlu").glob("*.yml"))
TEST_FILE = DATA / "test" / "nlu.yml"
DOMAIN = DATA / "domain.yml"

ANNOTATION = re.compile(r"\[(?P<text>[^\[\]]+)\]\((?P<entity>[^()]+)\)")
BITEXT_INTENT_COUNT = 27
MIN_INTENTS = 36
MIN_TRAIN = 60
TRAIN_CAP = 250
UNCAPPED = {"product_search", "out_of_scope"}

Examples = dict[str, list[str]]


def normalise(text: str) -> str:
    return " ".join(text.lower().split())


def plain(annotated: str) -> str:
    return ANNOTATION.sub(lambda m: m.group("text"), annotated)


def read_nlu(paths: list[Path]) -> tuple[Examples, list[dict[str, object]]]:
    """Intent -> annotated examples, and the non-intent items (lookups, synonyms)."""
    examples: Examples = {}
    others: list[dict[str, object]] = []
    for path in paths:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert doc["version"] == "3.1", f"{path} should declare Rasa version 3.1"
        for item in doc["nlu"]:
            if "intent" not in item:
                others.append(item)
                continue
            lines = item["examples"].splitlines()
            assert all(line.startswith("- ") for line in lines), f"bad line in {path}"
            examples.setdefault(item["intent"], []).extend(line[2:] for line in lines)
    return examples, others


@pytest.fixture(scope="module")
def train() -> Examples:
    return read_nlu(TRAIN_FILES)[0]


@pytest.fixture(scope="module")
def held_out() -> Examples:
    return read_nlu([TEST_FILE])[0]


@pytest.fixture(scope="module")
def lookups() -> dict[str, set[str]]:
    items = read_nlu(TRAIN_FILES)[1]
    return {
        str(item["lookup"]): {line[2:].lower() for line in str(item["examples"]).splitlines()}
        for item in items
        if "lookup" in item
    }


@pytest.fixture(scope="module")
def domain() -> dict[str, object]:
    loaded: dict[str, object] = yaml.safe_load(DOMAIN.read_text(encoding="utf-8"))
    return loaded


@pytest.fixture(scope="module")
def builder() -> ModuleType:
    return load_builder()


def test_training_data_has_at_least_36_intents_including_all_bitext_ones(
    train: Examples, builder: ModuleType
) -> None:
    assert len(train) >= MIN_INTENTS
    assert set(builder.BITEXT_INTENTS) <= set(train)
    assert len(builder.BITEXT_INTENTS) == BITEXT_INTENT_COUNT


def test_every_intent_has_enough_training_examples_and_respects_the_cap(
    train: Examples,
) -> None:
    too_few = {i: len(e) for i, e in train.items() if len(e) < MIN_TRAIN}
    too_many = {i: len(e) for i, e in train.items() if len(e) > TRAIN_CAP and i not in UNCAPPED}
    assert not too_few
    assert not too_many


def test_every_intent_has_a_test_share_of_about_15_percent(
    train: Examples, held_out: Examples
) -> None:
    assert set(held_out) == set(train)
    for intent, examples in train.items():
        share = len(held_out[intent]) / (len(examples) + len(held_out[intent]))
        assert 0.12 <= share <= 0.18, f"{intent}: {share:.2f}"


def test_no_test_text_appears_in_training(train: Examples, held_out: Examples) -> None:
    train_texts = {normalise(plain(t)) for ex in train.values() for t in ex}
    test_texts = {normalise(plain(t)) for ex in held_out.values() for t in ex}
    assert not train_texts & test_texts


def test_no_text_is_empty_duplicated_or_under_two_intents(
    train: Examples, held_out: Examples
) -> None:
    owners: dict[str, set[str]] = {}
    counts: Counter[str] = Counter()
    for examples in (train, held_out):
        for intent, texts in examples.items():
            for text in texts:
                key = normalise(plain(text))
                assert key, f"empty example under {intent}"
                owners.setdefault(key, set()).add(intent)
                counts[key] += 1
    assert not {k: v for k, v in owners.items() if len(v) > 1}
    assert not [k for k, n in counts.items() if n > 1]


def test_every_annotation_is_well_formed_and_names_a_domain_entity(
    train: Examples, held_out: Examples, domain: dict[str, object]
) -> None:
    entities = set(domain["entities"])  # type: ignore[call-overload]
    for examples in (train, held_out):
        for texts in examples.values():
            for text in texts:
                rest = ANNOTATION.sub("", text)
                assert "[" not in rest and "]" not in rest, f"stray bracket in {text!r}"
                for m in ANNOTATION.finditer(text):
                    value = m.group("text")
                    assert m.group("entity") in entities, text
                    assert value == value.strip() and value, text
                    start = len(plain(text[: m.start()]))
                    assert plain(text)[start : start + len(value)] == value


def test_brand_and_category_annotations_come_from_the_lookups(
    train: Examples, lookups: dict[str, set[str]]
) -> None:
    for intent in ("product_search", "product_info", "recommend_product", "compare_products"):
        for text in train[intent]:
            for m in ANNOTATION.finditer(text):
                if m.group("entity") in ("brand", "category"):
                    assert m.group("text").lower() in lookups[m.group("entity")], text


def test_product_search_holds_every_wands_query(train: Examples, held_out: Examples) -> None:
    with (SOURCES / "wands-queries" / "query.csv").open(encoding="utf-8") as handle:
        queries = {normalise(row["query"]) for row in csv.DictReader(handle, delimiter="\t")}
    search = {normalise(plain(t)) for ex in (train, held_out) for t in ex.get("product_search", [])}
    assert len(queries) == 480
    assert queries <= search


def test_out_of_scope_holds_no_text_from_excluded_clinc_intents(
    train: Examples, held_out: Examples, builder: ModuleType
) -> None:
    data = json.loads((SOURCES / "clinc150" / "data_full.json").read_text(encoding="utf-8"))
    excluded = {
        normalise(text)
        for split in ("train", "val", "test")
        for text, label in data[split]
        if label in builder.CLINC_EXCLUDED
    }
    oos = {normalise(t) for ex in (train, held_out) for t in ex["out_of_scope"]}
    assert 500 <= len(oos) <= 900
    assert not oos & excluded


def test_domain_lists_exactly_the_data_intents_with_a_response_each(
    train: Examples, domain: dict[str, object]
) -> None:
    intents = set(domain["intents"])  # type: ignore[call-overload]
    responses = domain["responses"]
    assert intents == set(train)
    assert all(f"utter_{i}" in responses for i in intents)  # type: ignore[operator]


# Messages shoppers sent that the model once got wrong. The data must teach the kind of
# message (see the support phrasings), never hold these texts: they stay held out, so a
# model that answers them generalised.
REPORTED_MESSAGES = (
    "can I pay with paypal?",
    "the mattress arrived damaged for the second time, I want my money back",
    "my package says delivered but I never got it",
)
DAMAGED_ITEM = re.compile(
    r"\b(damaged|broken|defective|faulty|cracked|shattered|smashed|dented)\b", re.IGNORECASE
)
# A parcel word plus a claim that it was delivered elsewhere, lost or stolen.
PARCEL = re.compile(r"\b(package|parcel|delivery|order|box)\b", re.IGNORECASE)
MISSING = re.compile(
    r"\b(stolen|stole|(marked|shows?|says?)( as)? delivered|lost (by|in) (the )?(courier|post|transit))\b",
    re.IGNORECASE,
)
PAYMENT_PROVIDERS = (
    "paypal", "apple pay", "google pay", "klarna", "afterpay", "bank transfer",
    "cash on delivery", "bitcoin", "crypto", "instalments", "gift card", "amex", "venmo",
)  # fmt: skip


def _loose(text: str) -> str:
    return re.sub(r"[^a-z0-9 ]", "", normalise(text))


def test_reported_messages_are_nowhere_in_the_data(train: Examples, held_out: Examples) -> None:
    texts = {_loose(plain(t)) for ex in (train, held_out) for ts in ex.values() for t in ts}
    assert not {m for m in REPORTED_MESSAGES if _loose(m) in texts}


def _labelled_where(match: Callable[[str], object], *splits: Examples) -> set[tuple[str, str]]:
    """(intent, plain text) of every example in `splits` whose plain text `match`es."""
    return {
        (intent, plain(t))
        for ex in splits
        for intent, texts in ex.items()
        for t in texts
        if match(plain(t))
    }


def test_damaged_broken_or_faulty_items_are_complaints_refund_wanted_or_not(
    train: Examples, held_out: Examples
) -> None:
    found = _labelled_where(DAMAGED_ITEM.search, train, held_out)
    assert len(found) >= 30
    assert {text for intent, text in found if intent != "complaint"} == set()


def test_parcels_marked_delivered_lost_or_stolen_are_missing_package_reports(
    train: Examples, held_out: Examples
) -> None:
    found = _labelled_where(lambda t: PARCEL.search(t) and MISSING.search(t), train, held_out)
    assert len(found) >= 15
    assert {text for intent, text in found if intent != "report_missing_package"} == set()


def test_payment_method_questions_name_the_providers_shoppers_ask_about(train: Examples) -> None:
    texts = " | ".join(plain(t).lower() for t in train["check_payment_methods"])
    assert [p for p in PAYMENT_PROVIDERS if p not in texts] == []


@pytest.mark.parametrize(
    ("text", "value", "start", "end", "expected", "verdict"),
    [
        ("cancel order 123", "123", 13, 16, (13, 16), "exact"),
        ("cancel order 00123", "123", 13, 18, (13, 18), "fixed_leading_zeros"),
        ("open a gold account", "Gold", 7, 11, (7, 11), "fixed_case"),
        ("edit order 3707955617, please", "3707955617", 11, 23, (11, 21), "fixed_offsets"),
        ("reimburse 1200 dollars", "12", 10, 14, None, "dropped_annotation"),
        ("cancel 370795561790 now", "3707955617", 7, 19, None, "dropped_annotation"),
    ],
)
def test_bitext_entity_spans_are_kept_fixed_or_dropped(
    builder: ModuleType,
    text: str,
    value: str,
    start: int,
    end: int,
    expected: tuple[int, int] | None,
    verdict: str,
) -> None:
    assert builder.bitext.locate_entity(text, value, start, end) == (expected, verdict)


@pytest.mark.parametrize(
    ("raw", "cleaned"),
    [
        ("order [urgent]  please", "order (urgent) please"),
        ("  spaced\tout  ", "spaced out"),
        ("teal (prints)", "teal (prints)"),
    ],
)
def test_clean_text_neutralises_annotation_syntax_and_whitespace(
    builder: ModuleType, raw: str, cleaned: str
) -> None:
    assert builder.clean_text(raw) == cleaned


@pytest.mark.slow
def test_build_is_deterministic_and_matches_the_committed_files(
    builder: ModuleType, tmp_path: Path
) -> None:
    builder.build(SOURCES, tmp_path, DOMAIN)
    written = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*.yml"))
    assert [str(p) for p in written] == sorted(
        str(p.relative_to(DATA)) for p in (*TRAIN_FILES, TEST_FILE)
    )
    for rel in written:
        assert (tmp_path / rel).read_bytes() == (DATA / rel).read_bytes(), str(rel)


def test_build_fails_loudly_when_the_domain_lacks_an_intent(
    builder: ModuleType, tmp_path: Path
) -> None:
    domain = yaml.safe_load(DOMAIN.read_text(encoding="utf-8"))
    domain["intents"].remove("compare_products")
    short = tmp_path / "domain.yml"
    short.write_text(yaml.safe_dump(domain), encoding="utf-8")
    with pytest.raises(builder.TrainingDataError, match=r"\['compare_products'\] are missing"):
        builder.build(SOURCES, tmp_path / "out", short)


def test_build_with_a_missing_source_says_which_file(builder: ModuleType, tmp_path: Path) -> None:
    with pytest.raises(builder.TrainingDataError, match="expected the Bitext copy at"):
        builder.build(tmp_path, tmp_path / "out", DOMAIN)
