"""What a build counted: kept and dropped examples per intent and source."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass
class BuildReport:
    """Counts gathered while building, written into docs/data.md (see `docs`)."""

    train_counts: dict[str, int] = field(default_factory=dict)
    test_counts: dict[str, int] = field(default_factory=dict)
    sources: dict[str, Counter[str]] = field(default_factory=dict)
    bitext: Counter[str] = field(default_factory=Counter)
    dropped: Counter[str] = field(default_factory=Counter)
    clinc_intents_used: list[str] = field(default_factory=list)
