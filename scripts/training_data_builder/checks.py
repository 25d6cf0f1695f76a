"""The requirements the built data must meet before anything is written."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import yaml

from nlu.data import Example

from .config import ENTITY_NAMES, MIN_INTENTS, MIN_TRAIN_EXAMPLES, TrainingDataError, normalise


def check(train: Sequence[Example], test: Sequence[Example], domain_intents: Sequence[str]) -> None:
    """Fail loudly when the built data breaks a requirement.

    Raises:
        TrainingDataError: Too few intents or examples, train/test overlap, a text under
            two intents, an unannotatable entity, or intents missing from the domain.
    """
    counts = Counter(ex.intent for ex in train)
    if len(counts) < MIN_INTENTS:
        raise TrainingDataError(
            f"expected at least {MIN_INTENTS} intents, but found {len(counts)}; add intents"
        )
    thin = {i: n for i, n in counts.items() if n < MIN_TRAIN_EXAMPLES}
    if thin:
        raise TrainingDataError(
            f"expected at least {MIN_TRAIN_EXAMPLES} training examples per intent, but "
            f"found {thin}; add templates or phrasings for them"
        )
    overlap = {normalise(e.text) for e in train} & {normalise(e.text) for e in test}
    if overlap:
        raise TrainingDataError(
            f"expected no text in both train and test, but found {sorted(overlap)[:5]}"
        )
    for ex in (*train, *test):
        for span in ex.entities:
            mention = ex.text[span.start : span.end]
            if span.entity not in ENTITY_NAMES or mention != mention.strip() or "]" in mention:
                raise TrainingDataError(
                    f"expected a clean entity mention of a domain entity, but found "
                    f"{mention!r} as {span.entity!r} in {ex.text!r}"
                )
    data_intents = set(counts) | {e.intent for e in test}
    missing = sorted(data_intents - set(domain_intents))
    extra = sorted(set(domain_intents) - data_intents)
    if missing or extra:
        raise TrainingDataError(
            f"expected training_data/domain.yml to list exactly the data's intents, but "
            f"{missing} are missing from it and {extra} have no data; edit the domain "
            "(owned by the bot) or the data"
        )


def read_domain_intents(domain_path: Path) -> list[str]:
    """The `intents:` list of a Rasa domain file."""
    if not domain_path.is_file():
        raise TrainingDataError(
            f"expected the Rasa domain at {domain_path}, but it was not found; "
            "restore training_data/domain.yml from git"
        )
    domain = yaml.safe_load(domain_path.read_text(encoding="utf-8")) or {}
    intents = []
    for item in domain.get("intents", []):
        intents.append(next(iter(item)) if isinstance(item, dict) else str(item))
    return intents
