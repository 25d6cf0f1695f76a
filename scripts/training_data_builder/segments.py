"""Examples as segments while they are built, and the text cleaning the sources need.

A generated message is a run of `Segment`s (plain text, or the text of one entity
mention), so casing, noise and whitespace can change around an entity without losing
where it is. `to_example` turns the segments into `nlu.data.Example` with its entity
spans; from there on the builder uses nlu's example type and writer.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable
from dataclasses import dataclass

from nlu.data import EntitySpan, Example
from nlu.data import clean_text as clean_rasa_text

# Square brackets start an inline annotation (`[text](entity)`) and braces its JSON
# form; both become parentheses, which alone cannot form an annotation.
_BRACKETS = str.maketrans("[]{}", "()()")


@dataclass(frozen=True)
class Segment:
    """A piece of an example: plain text, or the text of one entity mention."""

    text: str
    entity: str | None = None


def clean_text(text: str) -> str:
    """Neutralise annotation syntax, then clean as nlu does (one line, collapsed spaces).

    >>> clean_text("order [urgent]  please")
    'order (urgent) please'
    """
    return clean_rasa_text(text.translate(_BRACKETS))


def to_example(intent: str, segments: Iterable[Segment], source: str) -> Example:
    """The example the segments spell: their plain text, an entity span per mention.

    Args:
        intent: The example's intent.
        segments: The message, in order.
        source: Where it came from (`bitext`, `wands`, `generated`, `support`, ...);
            the split keeps some sources whole and the writer files them apart.
    """
    text = ""
    spans: list[EntitySpan] = []
    for seg in segments:
        if seg.entity:
            spans.append(EntitySpan(seg.entity, seg.text, len(text), len(text) + len(seg.text)))
        text += seg.text
    return Example(text, intent, tuple(spans), source)


def merge(segments: Iterable[Segment]) -> tuple[Segment, ...]:
    """Drop empty segments and join neighbouring plain ones."""
    out: list[Segment] = []
    for seg in segments:
        if not seg.text:
            continue
        if out and not seg.entity and not out[-1].entity:
            out[-1] = Segment(out[-1].text + seg.text)
        else:
            out.append(seg)
    return tuple(out)


def tidy(segments: Iterable[Segment]) -> tuple[Segment, ...]:
    """Apply `clean_text` across segments: collapse whitespace, keep entities exact.

    Entity mentions lose surrounding spaces (moved into the plain text beside them) so
    every annotation is token-bounded; plain text is trimmed only at the message ends.
    """
    spaced: list[Segment] = []
    for seg in segments:
        text = seg.text.translate(_BRACKETS)
        if seg.entity:
            core = text.strip()
            if text[: len(text) - len(text.lstrip())]:
                spaced.append(Segment(" "))
            spaced.append(Segment(core, seg.entity))
            if text[len(text.rstrip()) :]:
                spaced.append(Segment(" "))
        else:
            spaced.append(Segment(text))
    merged = merge(spaced)
    out: list[Segment] = []
    for j, seg in enumerate(merged):
        text = seg.text
        if not seg.entity:
            text = re.sub(r"\s+", " ", text)
            if j == 0:
                text = text.lstrip()
            if j == len(merged) - 1:
                text = text.rstrip()
        else:
            text = " ".join(text.split())
        if text:
            out.append(Segment(text, seg.entity))
    return tuple(out)


def typo(text: str, rng: random.Random) -> str:
    """One realistic typo in a word of four letters or more: swap, drop or double."""
    words = text.split(" ")
    candidates = [i for i, w in enumerate(words) if len(w) >= 4 and w.isalpha()]
    if not candidates:
        return text
    i = rng.choice(candidates)
    w = words[i]
    k = rng.randrange(1, len(w) - 1)
    op = rng.choice(["swap", "drop", "double"])
    if op == "swap":
        w = w[:k] + w[k + 1] + w[k] + w[k + 2 :]
    elif op == "drop":
        w = w[:k] + w[k + 1 :]
    else:
        w = w[:k] + w[k] + w[k:]
    words[i] = w
    return " ".join(words)
