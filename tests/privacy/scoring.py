"""Scoring the redactor on the corpus: recall per type and the share of clean messages changed.

Shared by the tests and `scripts/pii_report.py`, so both count the same way.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from privacy import Finding, find, redact
from tests.privacy.corpus import CLEAN_MESSAGES, KNOWN_GAPS, PII_MESSAGES, Sample, Span, parse


def span_redacted(span: Span, findings: list[Finding]) -> bool:
    """Whether every character of `span` is inside a finding and one of them has its type."""
    covered: set[int] = set()
    typed = False
    for f in findings:
        if f.start < span.end and span.start < f.end:
            covered.update(range(max(f.start, span.start), min(f.end, span.end)))
            typed = typed or f.type.value == span.type
    return typed and len(covered) == span.end - span.start


@dataclass
class Scores:
    """How the redactor did on a set of labelled messages.

    Attributes:
        expected: Spans per type in the PII messages.
        redacted: Of those, the spans fully redacted with the right placeholder.
        missed: (message, type, the text left) for each span not redacted.
        clean_total: Clean messages scored.
        clean_changed: Clean messages that did not come back unchanged.
    """

    expected: Counter[str] = field(default_factory=Counter)
    redacted: Counter[str] = field(default_factory=Counter)
    missed: list[tuple[str, str, str]] = field(default_factory=list)
    clean_total: int = 0
    clean_changed: list[str] = field(default_factory=list)

    def recall(self, kind: str) -> float:
        """The share of `kind` spans redacted (1.0 when there are none)."""
        return self.redacted[kind] / self.expected[kind] if self.expected[kind] else 1.0

    @property
    def clean_changed_share(self) -> float:
        """The share of clean messages the redactor changed."""
        return len(self.clean_changed) / self.clean_total if self.clean_total else 0.0


def score(samples: list[Sample], clean: list[str]) -> Scores:
    """Score `find`/`redact` on labelled PII samples and clean messages."""
    scores = Scores()
    for sample in samples:
        findings = find(sample.text)
        for span in sample.spans:
            scores.expected[span.type] += 1
            if span_redacted(span, findings):
                scores.redacted[span.type] += 1
            else:
                scores.missed.append((sample.text, span.type, sample.text[span.start : span.end]))
    scores.clean_total = len(clean)
    scores.clean_changed = [text for text in clean if redact(text) != text]
    return scores


def corpus_scores() -> Scores:
    """Scores on the whole corpus (PII and clean messages)."""
    return score([parse(m) for m in PII_MESSAGES], CLEAN_MESSAGES)


def known_gap_scores() -> Scores:
    """Scores on the messages the redactor is known to miss."""
    return score([parse(m) for m in KNOWN_GAPS], [])
