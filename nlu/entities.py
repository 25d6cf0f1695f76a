"""Entity extraction: rule-based extractors for ids, money and emails, plus the
catalog lookups (product, brand, category, ...) from the training data with
typo-tolerant matching.

The lookups, synonyms and regexes are captured at training time by
`build_entity_config` and saved into the model artifact, so serving never reads the
training YAML. Output items follow Rasa's entity shape:
`{"entity", "value", "start", "end", "extractor", ...}` plus `role` for price bounds.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from rapidfuzz import fuzz, process

REGEX_EXTRACTOR = "RegexEntityExtractor"
LOOKUP_EXTRACTOR = "FuzzyLookupExtractor"
SYNONYM_PROCESSOR = "EntitySynonymMapper"

# Extractors see at most this much of a message: the webhook accepts 1,000 characters,
# and a bound keeps the cost of the data's own regexes and the lookups bounded too.
MAX_TEXT_CHARS = 2_000
FUZZY_CUTOFF = 84.0
MIN_FUZZY_TOKEN = 4
# Intents a word may appear in (outside entity annotations) before it counts as
# ordinary shop vocabulary ("order", "return") rather than a catalog word.
GENERIC_WORD_INTENTS = 3
_STOPWORDS = frozenset(
    [
        "about",
        "also",
        "any",
        "anything",
        "can",
        "could",
        "does",
        "doing",
        "from",
        "have",
        "just",
        "like",
        "looking",
        "more",
        "much",
        "need",
        "please",
        "really",
        "should",
        "some",
        "than",
        "that",
        "them",
        "then",
        "there",
        "they",
        "this",
        "very",
        "want",
        "what",
        "when",
        "where",
        "which",
        "will",
        "with",
        "would",
        "your",
        "yours",
    ]
)

_NUM = r"\d++(?:[.,]\d{1,2})?"
_CUR_PRE = r"(?:[$€£]|usd|eur|gbp)\s?"
_CUR_POST = r"\s?(?:[$€£]|dollars?|bucks|usd|euros?|eur|gbp|pounds?)(?!\w)"
_UPPER_WORDS = (
    r"under|below|less than|cheaper than|at most|up to|no more than|max(?:imum)?|within|"
    r"not more than|lower than"
)
_LOWER_WORDS = r"over|above|more than|at least|min(?:imum)?|starting at|from|higher than"
# A bare number after a bound word is a price only when no other unit follows it
# ("under 50" is a price, "more than 3 days" is not).
_AMOUNT = rf"(?:{_CUR_PRE}(?P<a>{_NUM})|(?P<b>{_NUM})(?:{_CUR_POST}|(?!\s*[a-z%]|[\d.,])))"


@dataclass(frozen=True)
class _Rule:
    entity: str
    pattern: re.Pattern[str]
    priority: int


def _money(text: str) -> float | int:
    value = float(text.replace(",", "."))
    return int(value) if value.is_integer() else value


def build_entity_config(
    lookups: Mapping[str, Iterable[str]],
    synonyms: Mapping[str, str],
    regexes: Mapping[str, Iterable[str]],
    examples: Iterable[tuple[str, str, Iterable[tuple[int, int]]]] = (),
) -> dict[str, Any]:
    """Capture what entity extraction needs from the training data.

    Args:
        lookups: lookup table name (the entity) -> values.
        synonyms: lower-cased variant -> canonical value.
        regexes: regex name (the entity) -> patterns.
        examples: (text, intent, entity spans) of the training examples; words that
            appear outside entity spans in many intents are ordinary vocabulary and
            are never fuzzy-matched to catalog entries.

    Returns:
        A JSON-ready dict for `EntityExtractor.from_config`.
    """
    intents_of: dict[str, set[str]] = defaultdict(set)
    for text, intent, spans in examples:
        masked = list(text.lower())
        for start, end in spans:
            masked[start:end] = " " * (end - start)
        for word in re.findall(r"\w+", "".join(masked)):
            intents_of[word].add(intent)
    generic = sorted(w for w, ints in intents_of.items() if len(ints) >= GENERIC_WORD_INTENTS)
    return {
        "lookups": {
            k: sorted({str(v).strip() for v in vs if str(v).strip()}) for k, vs in lookups.items()
        },
        "synonyms": {str(k).lower(): str(v) for k, v in synonyms.items()},
        "regexes": {k: list(vs) for k, vs in regexes.items()},
        "generic_words": generic,
    }


@dataclass
class _Lookup:
    entity: str
    entries: list[str]
    exact: re.Pattern[str] | None
    whole: dict[str, str] = field(default_factory=dict)  # lower entry -> entry
    tokens: list[str] = field(default_factory=list)  # fuzzy vocabulary


class EntityExtractor:
    """Extracts entities from a message with regexes and catalog lookups.

    >>> ex = EntityExtractor.from_config({"lookups": {"product": ["Essence Mascara Lash Princess"]}})
    >>> [(e["entity"], e["value"]) for e in ex.extract("is the mascra waterproof?")]
    [('product', 'mascara')]
    """

    def __init__(
        self,
        lookups: Mapping[str, list[str]],
        synonyms: Mapping[str, str],
        regexes: Mapping[str, list[str]],
        generic_words: Iterable[str] = (),
    ) -> None:
        self._synonyms = {k.lower(): v for k, v in synonyms.items()}
        generic = set(generic_words) | _STOPWORDS
        self._rules = _builtin_rules()
        for name, patterns in regexes.items():
            for pat in patterns:
                try:
                    # The data's own patterns are more specific than the built-in ones.
                    self._rules.append(_Rule(name, re.compile(pat, re.IGNORECASE), 1))
                except re.error:
                    continue  # the data validator reports bad patterns; serving skips them
        self._lookups: list[_Lookup] = []
        for name, entries in lookups.items():
            values = {e.strip() for e in entries if e.strip()}
            lowered = {v.lower() for v in values}
            # A synonym of a catalog value ("phones" for "smartphones") is findable too.
            values |= {k for k, v in self._synonyms.items() if v.lower() in lowered}
            clean = sorted(values, key=len, reverse=True)
            if not clean:
                continue
            exact = re.compile(
                r"(?<!\w)(?:" + "|".join(re.escape(e) for e in clean) + r")(?!\w)", re.IGNORECASE
            )
            vocab = {
                tok
                for e in clean
                for tok in re.findall(r"[^\W\d_]+", e.lower())
                if len(tok) >= MIN_FUZZY_TOKEN and tok not in generic
            }
            self._lookups.append(
                _Lookup(
                    entity=name,
                    entries=clean,
                    exact=exact,
                    whole={e.lower(): e for e in clean},
                    tokens=sorted(vocab),
                )
            )
        self._generic = generic

    @classmethod
    def from_config(cls, config: Mapping[str, Any] | None) -> EntityExtractor:
        """Build an extractor from the dict `build_entity_config` returned."""
        config = config or {}
        return cls(
            lookups=config.get("lookups", {}),
            synonyms=config.get("synonyms", {}),
            regexes=config.get("regexes", {}),
            generic_words=config.get("generic_words", ()),
        )

    def patterns(self) -> list[tuple[str, str, re.Pattern[str]]]:
        """Every regex `extract` runs, as (extractor, entity, pattern), for checks and tests."""
        rules = [(REGEX_EXTRACTOR, rule.entity, rule.pattern) for rule in self._rules]
        lookups = [(LOOKUP_EXTRACTOR, lk.entity, lk.exact) for lk in self._lookups if lk.exact]
        return rules + lookups

    def extract(self, text: str) -> list[dict[str, Any]]:
        """Return the entities found in `text`, ordered by position, never overlapping.

        Only the first `MAX_TEXT_CHARS` characters are searched; offsets refer to `text`.
        """
        text = text[:MAX_TEXT_CHARS]
        found: list[tuple[int, int, int, dict[str, Any]]] = []  # priority, start, end, entity
        for rule in self._rules:
            for m in rule.pattern.finditer(text):
                found.extend(_rule_entities(rule, m))
        for lookup in self._lookups:
            if lookup.exact is None:
                continue
            for m in lookup.exact.finditer(text):
                ent = self._entity(
                    lookup.entity, lookup.whole[m.group(0).lower()], m.start(), m.end(), text
                )
                ent["confidence_entity"] = 1.0
                found.append((3, m.start(), m.end(), ent))
        found.extend(self._fuzzy(text))
        return _resolve(found)

    def _entity(
        self,
        name: str,
        value: Any,
        start: int,
        end: int,
        text: str,
        extractor: str = LOOKUP_EXTRACTOR,
    ) -> dict[str, Any]:
        ent: dict[str, Any] = {
            "entity": name,
            "start": start,
            "end": end,
            "value": value,
            "extractor": extractor,
        }
        for key in (str(value).lower(), text[start:end].lower()):
            if key in self._synonyms:
                ent["value"] = self._synonyms[key]
                ent["processors"] = [SYNONYM_PROCESSOR]
                break
        return ent

    def _fuzzy(self, text: str) -> list[tuple[int, int, int, dict[str, Any]]]:
        out: list[tuple[int, int, int, dict[str, Any]]] = []
        for m in re.finditer(r"[^\W\d_]+", text):
            word = m.group(0).lower()
            if len(word) < MIN_FUZZY_TOKEN or word in self._generic:
                continue
            best: tuple[float, str, str] | None = None  # score, entity, value
            for lookup in self._lookups:
                # A whole one-word entry ("Essence") beats the same word inside a title.
                whole = process.extractOne(
                    word, list(lookup.whole), scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF
                )
                if whole and whole[0][0] == word[0]:
                    cand = (whole[1] + 0.5, lookup.entity, lookup.whole[whole[0]])
                    if best is None or cand[0] > best[0]:
                        best = cand
                tok = process.extractOne(
                    word, lookup.tokens, scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF
                )
                if tok and tok[0][0] == word[0]:
                    cand = (float(tok[1]), lookup.entity, tok[0])
                    if best is None or cand[0] > best[0]:
                        best = cand
            if best is not None:
                ent = self._entity(best[1], best[2], m.start(), m.end(), text)
                ent["confidence_entity"] = round(min(best[0], 100.0) / 100.0, 3)
                out.append((4, m.start(), m.end(), ent))
        return out


def _builtin_rules() -> list[_Rule]:
    # Every rule runs in time linear in the text: a run of one character class is
    # consumed possessively (`++`, `*+`) or fenced by a lookbehind, so a failing match
    # never retries the same run at each split ("#" + "1" * 998 + "_" took 6.6 s).
    flags = re.IGNORECASE
    # Letters and digits in dash-separated groups; ends at the last group, never a dash.
    token = r"[A-Z0-9]++(?:-++[A-Z0-9]++)*+"
    return [
        _Rule(
            "email",
            re.compile(
                r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]++@(?:[A-Za-z0-9-]++\.)+[A-Za-z]{2,}"
            ),
            0,
        ),
        _Rule("invoice_id", re.compile(rf"\b(?P<v>INV[-_]?+(?=[A-Z]*+\d){token})\b", flags), 1),
        _Rule(
            "invoice_id",
            re.compile(
                r"\binvoice\s*+(?:(?:number|no\.?|num|id)\s*+)?[:#]?\s*+"
                r"(?P<v>(?=[A-Z-]*+\d)[A-Z0-9-]++)",
                flags,
            ),
            1,
        ),
        _Rule(
            "price",
            re.compile(
                rf"\bbetween\s*+(?:{_CUR_PRE})?(?P<lo>{_NUM})(?:{_CUR_POST})?\s*+(?:and|-|to)\s*+"
                rf"(?:{_CUR_PRE})?(?P<hi>{_NUM})(?:{_CUR_POST})?",
                flags,
            ),
            1,
        ),
        _Rule("price", re.compile(rf"\b(?P<up>{_UPPER_WORDS})\s*+{_AMOUNT}", flags), 2),
        _Rule("price", re.compile(rf"\b(?P<low>{_LOWER_WORDS})\s*+{_AMOUNT}", flags), 2),
        _Rule(
            "price",
            re.compile(rf"{_CUR_PRE}(?P<a>{_NUM})\b|\b(?P<b>{_NUM}){_CUR_POST}(?!\w)", flags),
            3,
        ),
        _Rule("order_id", re.compile(r"\b(?P<v>ORD(?:ER)?[-_]\d{2,}+[A-Z0-9]*+)\b", flags), 2),
        _Rule(
            "order_id",
            re.compile(
                r"\border\s*+(?:(?:number|no\.?|num|id)\s*+)?[:#]?\s*+"
                r"(?P<v>[A-Z]{0,4}-?\d{3,}+[A-Z0-9]*+(?:-++[A-Z0-9]++)*+)\b",
                flags,
            ),
            2,
        ),
        _Rule("order_id", re.compile(rf"#\s?(?P<v>(?=[A-Z0-9-]*?\d\d)-*+{token})\b", flags), 3),
        # A short letter prefix and 6-12 digits is a reference on its own, mid-sentence
        # too (this shop's SI4829301746, many shops' SO123456).
        _Rule("order_id", re.compile(r"\b(?P<v>[A-Z]{1,4}-?\d{6,12})\b", flags), 3),
        _Rule("order_id", re.compile(r"(?<![\d$€£.,])\b(?P<v>\d{5,12})\b(?![.,]\d)"), 4),
    ]


def _rule_entities(rule: _Rule, m: re.Match[str]) -> list[tuple[int, int, int, dict[str, Any]]]:
    groups = m.groupdict()
    base: dict[str, Any] = {"entity": rule.entity, "extractor": REGEX_EXTRACTOR}
    if rule.entity == "price":
        if "lo" in groups:
            low = {**base, "start": m.start(), "end": m.end("lo"), "role": "min"}
            high = {**base, "start": m.start("hi"), "end": m.end(), "role": "max"}
            low["value"], high["value"] = _money(groups["lo"]), _money(groups["hi"])
            return [
                (rule.priority, low["start"], low["end"], low),
                (rule.priority, high["start"], high["end"], high),
            ]
        key = "a" if groups.get("a") else "b"
        ent: dict[str, Any] = {
            **base,
            "start": m.start(),
            "end": m.end(),
            "value": _money(groups[key]),
        }
        if groups.get("up"):
            ent["role"] = "max"
        elif groups.get("low"):
            ent["role"] = "min"
        return [(rule.priority, m.start(), m.end(), ent)]
    if "v" in groups and groups["v"] is not None:
        value = groups["v"]
        start, end = m.start("v"), m.end("v")
        if rule.entity in ("order_id", "invoice_id") and not value.isdigit():
            value = value.upper()
        return [(rule.priority, start, end, {**base, "start": start, "end": end, "value": value})]
    value_text = m.group(0)
    return [
        (
            rule.priority,
            m.start(),
            m.end(),
            {**base, "start": m.start(), "end": m.end(), "value": value_text},
        )
    ]


def _resolve(found: list[tuple[int, int, int, dict[str, Any]]]) -> list[dict[str, Any]]:
    # Lower priority number first, then the longer span; keep what does not overlap.
    found.sort(key=lambda f: (f[0], -(f[2] - f[1]), f[1]))
    taken: list[tuple[int, int]] = []
    kept: list[dict[str, Any]] = []
    for _, _, _, ent in found:
        s, e = ent["start"], ent["end"]
        if any(s < te and ts < e for ts, te in taken):
            continue
        taken.append((s, e))
        kept.append(ent)
    kept.sort(key=lambda ent: ent["start"])
    return kept
