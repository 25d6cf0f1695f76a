"""Every regex of the project runs in time linear in its input, even on hostile text.

The patterns are collected, not listed: module-level `re.Pattern` objects of `nlu`,
`bot`, `actions` and `privacy` (also inside module-level lists and tuples), the entity
extractor's rules and catalog lookups built from the shipped training data, and the
slot prompt patterns of `training_data/policy.yml`. Each one must scan 10 kB of
adversarial text (long runs of its own characters after one of its own words, then a
character that makes the match fail) in under 50 ms of CPU time. A backtracking
pattern takes seconds there: `"#" + "1" * 998 + "_"` took 6.6 s in the old order-number
rule. CPU time of this thread, not wall time, so a busy machine does not fail the test.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from actions.parsing import MAX_TEXT_CHARS as ACTION_TEXT_CHARS
from bot.domain import load_domain
from bot.settings import BotSettings
from nlu.data import read_splits
from nlu.entities import LOOKUP_EXTRACTOR, EntityExtractor, build_entity_config
from nlu.entities import MAX_TEXT_CHARS as ENTITY_TEXT_CHARS

ROOT = Path(__file__).resolve().parents[2]
TEXT_CHARS = 10_000
MAX_CPU_S = 0.05
HARD_STOP_S = 2.0  # a catastrophic pattern is stopped here instead of hanging the run
PACKAGES = ("nlu", "bot", "actions", "privacy")
WEBHOOK_CHARS = BotSettings.model_fields["max_message_chars"].default

# Patterns that only ever see text their callers cut short, and the cut: they are held
# to the same 50 ms at that length. Quadratic ones pass here; cubic ones fail even so.
CALLER_CAPS: dict[str, int] = {
    # `normalize`, `extract_order_id` and `extract_address` truncate to MAX_TEXT_CHARS.
    "actions.parsing.": ACTION_TEXT_CHARS,
    # Addresses are stored at most 300 characters long (`extract_address`).
    "actions.orders._REGION_POSTCODE_RE": 300,
    # Reads the shop's own return-policy text, never a shopper's message.
    "actions.orders._RETURN_DAYS_RE": ACTION_TEXT_CHARS,
    # Run on one webhook message, which the app refuses beyond `max_message_chars`.
    "bot.policy.": WEBHOOK_CHARS,
    "policy.yml:slot_prompts.": WEBHOOK_CHARS,
    # `EntityExtractor.extract` cuts the text first. A catalog alternation is linear, but
    # tries each of its hundreds of entries at every word start.
    "nlu.entities.lookup": ENTITY_TEXT_CHARS,
}


@dataclass(frozen=True)
class Target:
    """One compiled pattern of the project and the longest text it must handle."""

    name: str
    pattern: re.Pattern[str]
    max_chars: int


def _module_patterns() -> Iterator[tuple[str, re.Pattern[str]]]:
    for package in PACKAGES:
        root = importlib.import_module(package)
        for info in pkgutil.walk_packages(root.__path__, f"{package}."):
            if ".migrations" in info.name:  # alembic's env.py runs a migration on import
                continue
            module = importlib.import_module(info.name)
            for attr, value in vars(module).items():
                items = value if isinstance(value, list | tuple | frozenset) else [value]
                for i, item in enumerate(items):
                    if isinstance(item, re.Pattern):
                        suffix = f"[{i}]" if items is value else ""
                        yield f"{info.name}.{attr}{suffix}", item


def shipped_extractor() -> EntityExtractor:
    """The entity extractor a model trained on the shipped training data serves."""
    data = read_splits(ROOT / "training_data")["train"]
    return EntityExtractor.from_config(
        build_entity_config(data.lookups, data.synonyms, data.regexes)
    )


def collect_targets() -> list[Target]:
    """Every compiled pattern of the project, each once, with its caller's length cap.

    A pattern one module imports from another is held to the longer of the two lengths.
    """
    found: dict[int, Target] = {}

    def add(name: str, pattern: re.Pattern[str]) -> None:
        cap = next((n for prefix, n in CALLER_CAPS.items() if name.startswith(prefix)), None)
        seen = found.get(id(pattern))
        chars = max(cap or TEXT_CHARS, seen.max_chars if seen else 0)
        found[id(pattern)] = Target(min(name, seen.name) if seen else name, pattern, chars)

    for name, pattern in _module_patterns():
        add(name, pattern)
    for i, (extractor, entity, pattern) in enumerate(shipped_extractor().patterns()):
        kind = "lookup" if extractor == LOOKUP_EXTRACTOR else "rule"
        add(f"nlu.entities.{kind}{i}:{entity}", pattern)
    domain = load_domain(
        ROOT / "training_data" / "domain.yml", ROOT / "training_data" / "policy.yml"
    )
    for slot, prompt in domain.slot_prompts.items():
        add(f"policy.yml:slot_prompts.{slot}.pattern", prompt.pattern)
        add(f"policy.yml:slot_prompts.{slot}.valid", prompt.valid)
    return sorted(found.values(), key=lambda t: t.name)


TARGETS = collect_targets()

_FILLERS = (" ", "\n", "1", "a", "A", "-", "#", ".")
_ENDS = ("_", "!")


def _without_classes(source: str) -> str:
    return re.sub(r"\[(?:\\.|[^\]])*\]", " ", re.sub(r"\\.", " ", source))


def _phrases(pattern: re.Pattern[str]) -> list[str]:
    phrases = re.findall(r"[A-Za-z]{2,}(?: [A-Za-z]+)*", _without_classes(pattern.pattern))
    return sorted(set(phrases), key=lambda w: (len(w), w))[:12]


def _marks(pattern: re.Pattern[str]) -> list[str]:
    return sorted(set(re.findall(r"[#@$€£/:,%'_=-]", pattern.pattern)))


def words_of(pattern: re.Pattern[str]) -> list[str]:
    """Literal words and punctuation of the pattern: what makes a match start."""
    return ["", *_phrases(pattern), *_marks(pattern)]


def alphabet_of(pattern: re.Pattern[str]) -> list[str]:
    """The pattern's own characters plus digits, '#', '-' and spaces."""
    own = {c for c in pattern.pattern if c.isprintable()}
    return sorted(own | set(_FILLERS) | {"0", "9", "_"})


class PatternTimeout(Exception):
    """A pattern ran past the hard stop."""


def _alarm(_signum: int, _frame: Any) -> None:
    raise PatternTimeout


def cpu_seconds(pattern: re.Pattern[str], text: str) -> float:
    """CPU time of this thread to scan `text` with `finditer` and `fullmatch`."""
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, HARD_STOP_S)
    start = time.thread_time()
    try:
        for _ in pattern.finditer(text):
            pass
        pattern.fullmatch(text)
    except PatternTimeout:
        return float("inf")
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    return time.thread_time() - start


def adversarial_texts(target: Target) -> Iterator[str]:
    """One of the pattern's words, then a long run of one character, then a stopper.

    A word and a mark together ("ORD-", "order#"), or a mark and a letter or digit
    ("/a", "#1"), start a run too.
    """
    starts: list[tuple[str, tuple[str, ...], tuple[str, ...]]]
    starts = [(w, _FILLERS, _ENDS) for w in words_of(target.pattern)]
    marks = _marks(target.pattern)
    starts += [(w + m, ("1", " "), ("_",)) for w in _phrases(target.pattern) for m in marks]
    starts += [(m + c, (" ", "\n", "1", "a"), ("_",)) for m in marks for c in "a1"]
    for start, fillers, ends in starts:
        for filler in fillers:
            for end in ends:
                yield start + filler * (target.max_chars - len(start) - len(end)) + end


def assert_fast(target: Target, text: str) -> None:
    took = cpu_seconds(target.pattern, text)
    assert took < MAX_CPU_S, (
        f"{target.name} took {took * 1000:.0f} ms of CPU on {len(text)} characters "
        f"({text[:20]!r}...{text[-5:]!r}); expected under {MAX_CPU_S * 1000:.0f} ms. "
        f"Pattern: {target.pattern.pattern!r}. Make runs possessive (`\\s*+`, `[..]++`) or "
        "fence a run's start with a lookbehind so a failing match cannot retry each split."
    )


def test_patterns_are_collected_from_every_source() -> None:
    names = [t.name for t in TARGETS]

    assert any(n.startswith("nlu.entities.rule") for n in names)
    assert any(n.startswith("policy.yml:slot_prompts.order_id") for n in names)
    assert any(n.startswith("bot.") for n in names)
    assert any(n.startswith("actions.") for n in names)
    assert len(names) >= 50


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.name)
def test_pattern_scans_long_runs_of_its_own_characters_in_linear_time(target: Target) -> None:
    for text in adversarial_texts(target):
        assert_fast(target, text)


@st.composite
def hostile_text(draw: st.DrawFn, target: Target) -> str:
    """A random unit from the pattern's alphabet (maybe after one of its words), repeated."""
    alphabet = st.sampled_from(alphabet_of(target.pattern))
    word = draw(st.sampled_from(words_of(target.pattern)))
    unit = draw(st.text(alphabet, min_size=1, max_size=4))
    if draw(st.booleans()):
        unit = word + unit
    end = draw(st.text(alphabet, max_size=2))
    body = (unit * (target.max_chars // len(unit) + 1))[: target.max_chars - len(word) - len(end)]
    return word + body + end


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.name)
def test_pattern_stays_fast_on_random_repetitive_text(target: Target) -> None:
    @settings(
        max_examples=15,
        deadline=None,
        database=None,
        derandomize=True,
        phases=(Phase.explicit, Phase.generate),
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(text=hostile_text(target))
    @example(text="#" + "1" * 998 + "_")
    def check(text: str) -> None:
        assert_fast(target, text[: target.max_chars])

    check()


@pytest.fixture(scope="module")
def extractor() -> EntityExtractor:
    return shipped_extractor()


@pytest.mark.parametrize(
    "text",
    [
        "#" + "1" * 998 + "_",
        "order" + " " * 994 + "x",
        "invoice" + "\n" * 992 + "x",
        "ORD-" + "0" * 995 + "_",
        "INV" + "1" * 996 + "_",
        "x" * 999 + "@",
    ],
    ids=["hash-digits", "order-spaces", "invoice-newlines", "ord-digits", "inv-digits", "email"],
)
def test_a_hostile_1000_character_message_is_read_in_well_under_half_a_second(
    extractor: EntityExtractor, text: str
) -> None:
    started = time.perf_counter()
    extractor.extract(text)

    assert time.perf_counter() - started < 0.5


def test_the_extractor_reads_only_the_first_max_text_chars_characters(
    extractor: EntityExtractor,
) -> None:
    text = "x" * ENTITY_TEXT_CHARS + " order 4829301746 " + "#1" * 500_000

    started = time.perf_counter()
    found = extractor.extract(text)

    assert time.perf_counter() - started < 0.5
    assert found == []
    assert extractor.extract("track order 4829301746")[0]["value"] == "4829301746"
