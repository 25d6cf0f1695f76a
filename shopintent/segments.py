"""What shoppers want, as segments the shop can use (`shopintent segments export`).

One row per shopper and segment, with the evidence count, from a window of recent
conversations (intents) and behaviour events. A shopper is the signed-in customer
(`customer:<id>`) when the conversation was signed in, else the conversation id.
Shoppers who opted out of tracking (`data-consent="false"`, recorded by
`POST /events` with `"consent": false`) have no events, and are left out entirely.

Segments (documented in docs/segments.md):

| segment | evidence |
|---|---|
| `high_intent:<category>` | product views, cart adds and purchases in the category; 3 or more |
| `asked_about_returns` | messages about returns or refunds (`check_refund_policy`, `get_refund`, `track_refund`) |
| `price_sensitive` | searches or messages with a price limit or asking for deals ("under $50", "cheap", "discount"); 2 or more |
| `churn_risk` | complaints, missing parcels and requests for a person after a failed answer |
"""

from __future__ import annotations

import csv
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

RETURN_INTENTS = frozenset({"check_refund_policy", "get_refund", "track_refund"})
CHURN_INTENTS = frozenset({"complaint", "report_missing_package"})
HIGH_INTENT_MIN = 3
PRICE_MIN = 2
_PRICE = re.compile(
    r"\b(?:under|below|less than|cheaper|cheap|budget|discount|deal|deals|coupon|sale|max)\b"
    r"|\$\s?\d",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Segment:
    """One row of the export."""

    shopper: str
    segment: str
    evidence: int


def _shoppers_of_conversations(conn: Any) -> dict[str, str]:
    from sqlalchemy import select

    from bot.store import Conversation

    owners: dict[str, str] = {}
    for sender, state in conn.execute(select(Conversation.sender_id, Conversation.state)):
        customer = ((state or {}).get("slots") or {}).get("customer_id")
        owners[sender] = f"customer:{customer}" if customer else sender
    return owners


def compute(url: str, since: datetime) -> list[Segment]:
    """Every segment with enough evidence since `since` (aware UTC), sorted."""
    from sqlalchemy import select

    from actions.models import Product
    from actions.store import session_scope
    from bot.events import BehaviourEvent, opted_out
    from bot.store import TranscriptStore, Turn

    store = TranscriptStore(url)
    store.create_tables()
    evidence: dict[str, Counter[str]] = defaultdict(Counter)
    try:
        with store.engine.connect() as conn:
            owners = _shoppers_of_conversations(conn)
            turns = conn.execute(
                select(Turn.sender_id, Turn.intent, Turn.text, Turn.actions).where(
                    Turn.created_at >= since
                )
            ).all()
            events = conn.execute(
                select(
                    BehaviourEvent.shopper,
                    BehaviourEvent.type,
                    BehaviourEvent.product_id,
                    BehaviourEvent.query,
                ).where(BehaviourEvent.created_at >= since, BehaviourEvent.consent.is_(True))
            ).all()
        excluded = opted_out(store.engine)
    finally:
        store.dispose()
    with session_scope(url) as session:
        categories = dict(session.execute(select(Product.id, Product.category)).all())

    for sender, intent, text, actions in turns:
        shopper = owners.get(sender, sender)
        if intent in RETURN_INTENTS:
            evidence[shopper]["asked_about_returns"] += 1
        if intent in CHURN_INTENTS or (
            intent == "contact_human_agent" and "action_handoff" in (actions or [])
        ):
            evidence[shopper]["churn_risk"] += 1
        if intent == "product_search" and _PRICE.search(text or ""):
            evidence[shopper]["price_sensitive"] += 1
    for shopper, kind, product, query in events:
        if kind == "search" and _PRICE.search(query or ""):
            evidence[shopper]["price_sensitive"] += 1
        category = categories.get(product) if product is not None else None
        if category and kind in ("product_view", "add_to_cart", "purchase"):
            evidence[shopper][f"high_intent:{category}"] += 1 if kind == "product_view" else 2
    rows: list[Segment] = []
    for shopper, counts in evidence.items():
        if shopper in excluded:
            continue
        for segment, count in counts.items():
            needed = (
                HIGH_INTENT_MIN
                if segment.startswith("high_intent:")
                else PRICE_MIN
                if segment == "price_sensitive"
                else 1
            )
            if count >= needed:
                rows.append(Segment(shopper, segment, count))
    return sorted(rows, key=lambda r: (r.shopper, r.segment))


def write_csv(rows: Iterable[Segment], out: Path) -> int:
    """Write the rows as `shopper,segment,evidence` CSV; returns the row count."""
    out.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with out.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["shopper", "segment", "evidence"])
        for row in rows:
            writer.writerow([row.shopper, row.segment, row.evidence])
            count += 1
    return count
