"""De-duplication across sources, the per-intent caps and the held-out split.

Every choice is by a seeded hash of the normalised text (`config.stable_hash`), so the
same sources always give the same train and test files.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from nlu.data import Example

from .config import GENERATED_SEARCH_TRAIN_CAP, TEST_FRACTION, TRAIN_CAP, normalise, stable_hash
from .report import BuildReport

# Real queries and hand-written support phrasings always survive the per-intent cap.
PROTECTED_SOURCES = frozenset({"wands", "support"})


def deduplicate(groups: Sequence[Sequence[Example]], report: BuildReport) -> list[Example]:
    """Keep the first example of every normalised text, in priority order of `groups`.

    A text seen again under the same intent is a duplicate; under another intent it is
    a conflict, and the earlier (higher-priority, real) source keeps it.
    """
    owner: dict[str, str] = {}
    kept: list[Example] = []
    for group in groups:
        for ex in group:
            key = normalise(ex.text)
            if not key:
                report.dropped[f"{ex.source}: empty"] += 1
            elif key not in owner:
                owner[key] = ex.intent
                kept.append(ex)
            elif owner[key] == ex.intent:
                report.dropped[f"{ex.intent}: duplicate text"] += 1
            else:
                report.dropped[f"{ex.intent}: text already under {owner[key]} (kept there)"] += 1
    return kept


def split_and_cap(examples: Sequence[Example]) -> tuple[list[Example], list[Example]]:
    """Stratified, hash-based held-out split, with a deterministic cap per intent.

    Per intent: rank examples by a seeded hash of the normalised text; keep a pool of
    at most TRAIN_CAP / (1 - TEST_FRACTION) of them (WANDS queries and the support
    phrasings always stay); the lowest-ranked TEST_FRACTION of the pool (by a second hash)
    is the test set. Out-of-scope keeps its whole pool (sized by OUT_OF_SCOPE_POOL).
    """
    by_intent: dict[str, list[Example]] = defaultdict(list)
    for ex in examples:
        by_intent[ex.intent].append(ex)
    train: list[Example] = []
    test: list[Example] = []
    for intent in sorted(by_intent):
        items = sorted(by_intent[intent], key=lambda e: stable_hash("cap", normalise(e.text)))
        protected = [e for e in items if e.source in PROTECTED_SOURCES]
        others = [e for e in items if e.source not in PROTECTED_SOURCES]
        if intent == "out_of_scope":
            pool = items
        elif intent == "product_search":
            limit = round(GENERATED_SEARCH_TRAIN_CAP / (1 - TEST_FRACTION))
            pool = protected + others[:limit]
        else:
            limit = round(TRAIN_CAP / (1 - TEST_FRACTION))
            pool = protected + others[: max(0, limit - len(protected))]
        ranked = sorted(pool, key=lambda e: stable_hash("split", normalise(e.text)))
        n_test = round(len(ranked) * TEST_FRACTION)
        test.extend(ranked[:n_test])
        train.extend(ranked[n_test:])
    return train, test
