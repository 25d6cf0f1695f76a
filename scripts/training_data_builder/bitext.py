"""Read the Bitext customer-support CSVs: the shop's support intents, with entity spans.

Bitext's entity offsets are not always right; each is checked against the text and
kept, fixed (leading zeros, case, offsets) or dropped, and the report counts which.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

from nlu.data import Example

from .config import TrainingDataError, normalise, require_source
from .report import BuildReport
from .segments import Segment, clean_text, tidy, to_example

BITEXT_INTENTS = (
    "cancel_order",
    "change_order",
    "change_shipping_address",
    "check_cancellation_fee",
    "check_invoice",
    "check_payment_methods",
    "check_refund_policy",
    "complaint",
    "contact_customer_service",
    "contact_human_agent",
    "create_account",
    "delete_account",
    "delivery_options",
    "delivery_period",
    "edit_account",
    "get_invoice",
    "get_refund",
    "newsletter_subscription",
    "payment_issue",
    "place_order",
    "recover_password",
    "registration_problems",
    "review",
    "set_up_shipping_address",
    "switch_account",
    "track_order",
    "track_refund",
)

TOKEN_CHARS = re.compile(r"[0-9A-Za-z]")

# When a text appears in several rows, the row whose span checks out best wins.
VERDICT_RANK = {
    "exact": 0,
    "fixed_leading_zeros": 1,
    "fixed_case": 1,
    "fixed_offsets": 2,
    "no_entity": 3,
    "dropped_annotation": 4,
}


def _is_token_bounded(text: str, start: int, end: int) -> bool:
    before = text[start - 1] if start > 0 else " "
    after = text[end] if end < len(text) else " "
    return not TOKEN_CHARS.match(before) and not TOKEN_CHARS.match(after)


def locate_entity(
    text: str, value: str, start: int, end: int
) -> tuple[tuple[int, int] | None, str]:
    """Find where a Bitext entity really is, and say how the given span was judged.

    Returns:
        The `(start, end)` to annotate (None when it cannot be found for sure) and the
        verdict: `exact`, `fixed_leading_zeros`, `fixed_case`, `fixed_offsets` or
        `dropped_annotation`.
    """
    span = text[start:end]
    if span == value and _is_token_bounded(text, start, end):
        return (start, end), "exact"
    if span.isdigit() and value.isdigit() and span.lstrip("0") == value.lstrip("0"):
        return (start, end), "fixed_leading_zeros"
    if span.lower() == value.lower() and span.strip() == span:
        return (start, end), "fixed_case"
    hits = [
        m.start()
        for m in re.finditer(re.escape(value), text)
        if _is_token_bounded(text, m.start(), m.start() + len(value))
    ]
    if len(hits) == 1:
        return (hits[0], hits[0] + len(value)), "fixed_offsets"
    return None, "dropped_annotation"


def load_bitext(sources: Path, report: BuildReport) -> list[Example]:
    """Read both Bitext CSVs, de-duplicate on the text, and keep checked entity spans.

    Args:
        sources: The `training_data/sources` directory.
        report: Collects how many annotations were exact, fixed or dropped.

    Returns:
        One example per distinct instruction text, with its entity annotation.

    Raises:
        TrainingDataError: A CSV is missing, or a text is labelled with two intents.
    """
    folder = sources / "bitext-customer-support"
    # Per normalised text: (rank of its best annotation verdict, verdict, example).
    best: dict[str, tuple[int, str, Example]] = {}
    for name in ("bitext_v1.csv", "bitext_v2.csv"):
        path = folder / name
        require_source(path, "the Bitext copy")
        with path.open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                report.bitext["rows read"] += 1
                raw = row["instruction"]
                intent = row["intent"].strip()
                text = clean_text(raw)
                key = normalise(text)
                if not key:
                    report.dropped["bitext: empty text"] += 1
                    continue
                if key in best and best[key][2].intent != intent:
                    raise TrainingDataError(
                        f"expected one intent per Bitext text, but {raw!r} is labelled "
                        f"{best[key][2].intent!r} and {intent!r}; fix the source copy"
                    )
                segments: tuple[Segment, ...] = (Segment(text),)
                verdict = "no_entity"
                entity = row["entity_type"].strip()
                if entity:
                    where, verdict = locate_entity(
                        raw, row["entity_value"], int(row["start_offset"]), int(row["end_offset"])
                    )
                    report.bitext[f"all rows: span {verdict}"] += 1
                    if where is not None:
                        s, e = where
                        segments = tidy(
                            (Segment(raw[:s]), Segment(raw[s:e], entity), Segment(raw[e:]))
                        )
                rank = VERDICT_RANK[verdict]
                if key in best:
                    report.bitext["rows repeating a text already read"] += 1
                    if rank >= best[key][0]:
                        continue
                best[key] = (rank, verdict, to_example(intent, segments, "bitext"))
    for _, verdict, _ in best.values():
        if verdict != "no_entity":
            report.bitext[f"kept texts: span {verdict}"] += 1
    report.bitext["kept texts"] = len(best)
    return [example for _, _, example in best.values()]
