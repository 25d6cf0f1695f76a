"""Print how the redactor does on the labelled corpus, as markdown tables.

Recall per type on `tests/privacy/corpus.py` (the share of labelled spans fully
replaced by the right placeholder), the share of clean shop messages it changed,
and the known gaps. Run from the repository root:

    .venv/bin/python scripts/pii_report.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from privacy import PiiType, redact
from tests.privacy.corpus import (
    CLEAN_MESSAGES,
    HELD_OUT_CLEAN,
    HELD_OUT_PII,
    PII_MESSAGES,
    parse,
)
from tests.privacy.scoring import Scores, corpus_scores, known_gap_scores, score


def recall_table(scores: Scores) -> str:
    """Recall per placeholder type, as a markdown table."""
    lines = ["| type | spans | redacted | recall |", "|---|---:|---:|---:|"]
    for kind in PiiType:
        total = scores.expected[kind.value]
        lines.append(
            f"| `{kind.placeholder}` | {total} | {scores.redacted[kind.value]} | "
            f"{scores.recall(kind.value):.1%} |"
        )
    all_total = sum(scores.expected.values())
    all_found = sum(scores.redacted.values())
    lines.append(f"| all | {all_total} | {all_found} | {all_found / all_total:.1%} |")
    return "\n".join(lines)


def speed_ms() -> float:
    """Mean time to redact one corpus message, in milliseconds."""
    texts = [*PII_MESSAGES, *CLEAN_MESSAGES]
    started = time.perf_counter()
    rounds = 20
    for _ in range(rounds):
        for text in texts:
            redact(text)
    return (time.perf_counter() - started) * 1000 / (rounds * len(texts))


def main() -> int:
    """Print the report."""
    scores = corpus_scores()
    print(f"Corpus: {len(PII_MESSAGES)} messages with personal data, "
          f"{len(CLEAN_MESSAGES)} clean shop messages.\n")  # fmt: skip
    print(recall_table(scores))
    print()
    print("| clean messages | changed | share changed |")
    print("|---:|---:|---:|")
    print(
        f"| {scores.clean_total} | {len(scores.clean_changed)} | {scores.clean_changed_share:.1%} |"
    )
    for text in scores.clean_changed:
        print(f"\n- changed: {text!r} -> {redact(text)!r}")
    for text, kind, left in scores.missed:
        print(f"\n- missed {kind}: {left!r} in {text!r}")
    held_out = score([parse(m) for m in HELD_OUT_PII], HELD_OUT_CLEAN)
    found, total = sum(held_out.redacted.values()), sum(held_out.expected.values())
    print(
        f"\nHeld out (`HELD_OUT_PII`/`HELD_OUT_CLEAN`, written after tuning, never tuned on): "
        f"{found} of {total} spans redacted ({found / total:.1%}) in {len(HELD_OUT_PII)} "
        f"messages; {len(held_out.clean_changed)} of {held_out.clean_total} clean messages changed."
    )
    for text, kind, left in held_out.missed:
        print(f"- missed {kind}: {left!r} in {text!r}")
    gaps = known_gap_scores()
    found = sum(gaps.redacted.values())
    print(
        f"\nKnown gaps (`KNOWN_GAPS`, not asserted): {found} of "
        f"{sum(gaps.expected.values())} spans redacted."
    )
    for text, kind, left in gaps.missed:
        print(f"- missed {kind}: {left!r} in {text!r}")
    print(f"\nMean redaction time per message: {speed_ms():.3f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
