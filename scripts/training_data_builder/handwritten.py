"""Examples from the hand-written phrasings: small talk and conversational support.

Small talk (`templates/smalltalk.yml`) keeps every core phrasing and adds seeded
opener/closer and typo variants; support phrasings (`templates/support.yml`) are kept
as written, with a seeded order number wherever one says `{id}`.
"""

from __future__ import annotations

import random

from nlu.data import Example

from .config import normalise
from .segments import Segment, clean_text, tidy, to_example, typo
from .template_files import smalltalk, support_phrasings

# Shop support intents with no Bitext counterpart: all their examples are support
# phrasings (so they need at least MIN_TRAIN_EXAMPLES / (1 - TEST_FRACTION) of them).
SUPPORT_ONLY_INTENTS = ("report_missing_package",)


def generate_smalltalk(rng_seed: str) -> list[Example]:
    """Every hand-written core phrasing, plus opener/closer and noise variants of them."""
    examples: list[Example] = []
    for intent, parts in smalltalk().items():
        rng = random.Random(f"{rng_seed}:{intent}")
        seen: set[str] = set()
        for core in parts.core:
            seen.add(normalise(core))
            examples.append(Example(core, intent, source="written"))
        for core in parts.core:
            for _ in range(2):
                text = f"{rng.choice(parts.pre)}{core}{rng.choice(parts.post)}"
                if rng.random() < 0.25:
                    text = text[:1].upper() + text[1:]
                if rng.random() < 0.1:
                    text = typo(text, rng)
                text = clean_text(text)
                key = normalise(text)
                if key and key not in seen:
                    seen.add(key)
                    examples.append(Example(text, intent, source="variant"))
    return examples


def generate_support(rng_seed: str) -> list[Example]:
    """The hand-written support phrasings, with seeded order numbers where they name one."""
    examples: list[Example] = []
    for intent, texts in support_phrasings().items():
        rng = random.Random(f"{rng_seed}:support:{intent}")
        for text in texts:
            before, sep, after = text.partition("{id}")
            if sep:
                number = str(rng.randint(100000, 999999))
                segments = tidy([Segment(before), Segment(number, "order_id"), Segment(after)])
            else:
                segments = (Segment(text),)
            examples.append(to_example(intent, segments, "support"))
    return examples
