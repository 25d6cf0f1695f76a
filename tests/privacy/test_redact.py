"""The shared redactor: the labelled corpus, each kind of personal data, and what it keeps."""

from __future__ import annotations

import functools
import re
import sys
import time
from collections.abc import Callable

import pytest

from privacy import MAX_CHARS, PiiType, find, has_placeholder, luhn_valid, redact, redact_value
from tests.privacy.corpus import (
    CLEAN_MESSAGES,
    HELD_OUT_CLEAN,
    HELD_OUT_PII,
    PII_MESSAGES,
    parse,
)
from tests.privacy.scoring import corpus_scores, score, span_redacted

SAMPLES = [parse(m) for m in PII_MESSAGES]


def test_the_corpus_is_big_enough_and_covers_every_type() -> None:
    assert len(PII_MESSAGES) >= 200 and len(CLEAN_MESSAGES) >= 200
    counts = corpus_scores().expected
    assert {kind.value for kind in PiiType} <= set(counts)
    assert min(counts.values()) >= 15


@pytest.mark.parametrize("sample", SAMPLES, ids=[s.text[:40] for s in SAMPLES])
def test_every_labelled_message_comes_back_with_no_personal_data_left(sample: object) -> None:
    from tests.privacy.corpus import Sample

    assert isinstance(sample, Sample)
    findings = find(sample.text)
    redacted = redact(sample.text)
    for span in sample.spans:
        secret = sample.text[span.start : span.end]
        assert span_redacted(span, findings), (span.type, secret, redacted)
        assert f"[{span.type}]" in redacted
        if len(secret) >= 6:  # short ones ("123") may also be a harmless part of the text
            assert secret not in redacted


def test_clean_shop_messages_come_back_unchanged() -> None:
    scores = corpus_scores()
    assert scores.clean_changed_share < 0.02, scores.clean_changed


def test_recall_per_type_on_the_corpus_is_complete() -> None:
    scores = corpus_scores()
    table = {kind.value: scores.recall(kind.value) for kind in PiiType}
    assert all(recall == 1.0 for recall in table.values()), (table, scores.missed)


def test_held_out_messages_stay_above_a_floor() -> None:
    # Never tuned on: a regression guard with room, not a target.
    scores = score([parse(m) for m in HELD_OUT_PII], HELD_OUT_CLEAN)
    total = sum(scores.expected.values())
    assert sum(scores.redacted.values()) / total >= 0.85, scores.missed
    assert scores.clean_changed_share <= 0.05, scores.clean_changed


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mail ann\u200b@example.com now", "mail [EMAIL] now"),
        ("ann@exämple.com", "[EMAIL]"),
        ("ann at example dot com", "[EMAIL]"),
        ("4111/1111/1111/1111 exp 12/27 cvv 123", "[CARD] exp [CARD] cvv [SECRET]"),
        ("card 4111 1111 1111 1111 123", "card [CARD]"),
        ("tracking 9400 1000 0000 0000 0000 00", "tracking 9400 1000 0000 0000 0000 00"),
        ("call 555\u200b123\u200b4567", "call [PHONE]"),
        ("ring 555-0199", "ring [PHONE]"),
        ("ssn 123-45-6789", "ssn [NATIONAL_ID]"),
        ("NI QQ 12 34 56 C", "NI [NATIONAL_ID]"),
        ("born 1990-03-12", "born [DOB]"),
        ("password is Hunter2!", "password is [SECRET]"),
        ("pin 1234", "pin [SECRET]"),
        ("refund DE89 3704 0044 0532 0130 00 please", "refund [IBAN] please"),
        ("I'm Ann Lee", "I'm [NAME]"),
        ("1234 Elm Ave Apt 5, Springfield, IL 62704", "[ADDRESS], Springfield, IL [POSTCODE]"),
        ("London SW1A 1AA", "London [POSTCODE]"),
    ],
)
def test_each_kind_becomes_its_placeholder(text: str, expected: str) -> None:
    assert redact(text) == expected


def test_an_iban_is_replaced_whole_not_half_taken_for_a_phone_number() -> None:
    assert redact("IBAN DE89 3704 0044 0532 0130 00") == "IBAN [IBAN]"


@pytest.mark.parametrize(
    "text",
    [
        "SI4829301746",
        "#SI4829301746",
        "si-4829301746",
        "SI 4829 3017 46",
        "INV-2026-123456",
        "SUP-7F3A9C",
        "$49.99",
        "under 50",
        "iPhone 12",
        "Galaxy S8",
        "size 10",
        "pack of 24",
        "4.5 stars",
        "the 2024 model",
        "I'm looking for a red dress",
        "I'm interested in the blue one",
        "this is broken",
        "delivered on 2024-01-15",
        "PS5 2TB",
        "my password is not working",
        "I saw it cheaper at amazon.com",
    ],
)
def test_shop_references_and_shop_talk_are_kept(text: str) -> None:
    assert redact(text) == text
    assert find(text) == []


def test_offsets_point_into_the_original_text_even_with_invisible_characters() -> None:
    text = "hi, ann\u200b@exa\u0301mple.com and ＡＢ"
    [finding] = find(text)
    assert finding.type == PiiType.EMAIL
    assert text[finding.start : finding.end] == "ann\u200b@exa\u0301mple.com"


def test_a_text_without_personal_data_keeps_its_unicode_as_typed() -> None:
    for text in ["\u202ehi\u202c", "ｈｉ", "hi 👋 مرحبا", "a\u200bb"]:
        assert redact(text) == text


def test_redacting_twice_changes_nothing_more() -> None:
    for sample in SAMPLES:
        once = redact(sample.text)
        assert redact(once) == once


def test_text_longer_than_the_window_is_redacted_everywhere() -> None:
    filler = "where is my order? " * (MAX_CHARS // 10)
    text = f"mail ann@example.com {filler} call 555-0199 {filler} my password is Hunter2!"
    redacted = redact(text)
    assert "ann@example.com" not in redacted and "555-0199" not in redacted
    assert "Hunter2!" not in redacted
    assert redacted.count("where is my order?") == text.count("where is my order?")


def test_redact_value_redacts_strings_at_any_depth_and_keeps_other_values() -> None:
    value = {"text": "I'm Ann", "n": 3, "items": [{"title": "call 555-0199"}, None], "id": "Ann"}
    assert redact_value(value, keep_keys={"id"}) == {
        "text": "I'm [NAME]",
        "n": 3,
        "items": [{"title": "call [PHONE]"}, None],
        "id": "Ann",
    }


def test_redact_value_sends_every_string_through_the_given_redactor() -> None:
    seen: list[str] = []

    def counting(text: str) -> str:
        seen.append(text)
        return redact(text)

    cached = functools.cache(counting)
    value = {"text": "call 555-0199", "again": ["call 555-0199", {"deep": "call 555-0199"}]}
    assert redact_value(value, text=cached) == {
        "text": "call [PHONE]",
        "again": ["call [PHONE]", {"deep": "call [PHONE]"}],
    }
    assert seen == ["call 555-0199"]  # redacted once, then read from the cache


def test_has_placeholder_tells_a_redacted_value_from_a_real_one() -> None:
    assert has_placeholder("[ADDRESS], Springfield")
    assert not has_placeholder("12 Oak Street")


@pytest.mark.parametrize(
    ("digits", "valid"),
    [("4111111111111111", True), ("4111111111111112", False), ("79927398713", True)],
)
def test_luhn_checksum(digits: str, valid: bool) -> None:
    assert luhn_valid(digits) is valid


def test_a_typical_message_is_redacted_in_well_under_a_millisecond() -> None:
    texts = [s.text for s in SAMPLES[:100]] + CLEAN_MESSAGES[:100]
    redact("warm up")
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        for text in texts:
            redact(text)
        best = min(best, (time.perf_counter() - started) / len(texts))
    assert best < 0.001


ADVERSARIAL = {
    "letters": "a",
    "digits": "1",
    "digit groups": "1 ",
    "dashes": "1-",
    "spaces": " ",
    "spelled at": "a at ",
    "spelled dots": "a at b dot ",
    "broken emails": "x@y.",
    "password words": "password is ",
    "pins": "pin ",
    "streets": "12 Oak ",
    "names": "I'm Ann ",
    "name cues": "my name is a ",
    "births": "born on 1 ",
    "iban starts": "DE89 ",
    "postcodes": "SW1A 1AA ",
    "zips": "IL 62704 ",
    "invisible": "ä\u200b",
}


def _cpu_seconds(run: Callable[[], object]) -> float:
    """CPU time of this thread for `run` (best of three), so a busy machine does not fail."""
    best = float("inf")
    for _ in range(3):
        started = time.thread_time()
        run()
        best = min(best, time.thread_time() - started)
    return best


@pytest.mark.parametrize("unit", list(ADVERSARIAL.values()), ids=list(ADVERSARIAL))
def test_redaction_time_grows_linearly_with_adversarial_input(unit: str) -> None:
    def cpu(chars: int) -> float:
        text = (unit * (chars // len(unit) + 1))[:chars]
        return _cpu_seconds(lambda: redact(text))

    small, large = cpu(MAX_CHARS // 4), cpu(MAX_CHARS)
    # Linear: about 4x; quadratic would be about 16x. Tiny timings are noise.
    assert large < 0.5
    assert large < 10 * small or large < 0.02


def _patterns() -> list[tuple[str, re.Pattern[str]]]:
    module = sys.modules["privacy.redact"]
    return [(n, v) for n, v in sorted(vars(module).items()) if isinstance(v, re.Pattern)]


@pytest.mark.parametrize(("name", "pattern"), _patterns(), ids=[n for n, _ in _patterns()])
def test_each_pattern_scans_a_window_of_hostile_text_in_linear_time(
    name: str, pattern: re.Pattern[str]
) -> None:
    # One of the pattern's own words, then a long run that almost matches, then a stopper:
    # a backtracking pattern retries every split of the run and takes seconds here.
    words = re.findall(r"[a-z]{2,}", re.sub(r"\\.|\[[^\]]*\]", " ", pattern.pattern))[:6]
    for word in ["", *words]:
        for filler in (" ", "1", "a", "1 "):
            text = (word + filler * MAX_CHARS)[: MAX_CHARS - 1] + "_"
            took = _cpu_seconds(lambda t=text: (list(pattern.finditer(t)), pattern.fullmatch(t)))
            assert took < 0.05, f"{name} took {took * 1000:.0f} ms on {text[:20]!r}..."
