"""What shoppers do on the shop's pages: product views, searches, carts, purchases.

The widget sends them in batches to `POST /events` (`window.shopintent.track`), with
the same identity as the webhook: a signed-in shopper's events are keyed
`customer:<id>`, a guest's by their conversation id. Nothing is stored without
consent (`data-consent="false"` on the widget, or `"consent": false` in a batch),
search text is redacted, and the retention period applies (`bot.retention`).

The recommender (`recs`) reads this table by name (`bot_events`); the segments
export reads it with the transcripts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Boolean, DateTime, Integer, String, Text, delete, insert, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Mapped, mapped_column

from bot.errors import InvalidMessageError
from bot.store import Base, rowcount
from privacy import redact

EVENT_TYPES = ("product_view", "search", "add_to_cart", "purchase")
MAX_EVENTS_PER_BATCH = 50
MAX_QUERY_CHARS = 200


def _now() -> datetime:
    return datetime.now(UTC)


class BehaviourEvent(Base):
    """One thing a shopper did, with the consent it was recorded under."""

    __tablename__ = "bot_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    shopper: Mapped[str] = mapped_column(String(160), index=True)
    conversation: Mapped[str | None] = mapped_column(String(128), index=True)
    type: Mapped[str] = mapped_column(String(20), index=True)
    product_id: Mapped[int | None] = mapped_column(Integer)
    query: Mapped[str | None] = mapped_column(Text)
    consent: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now, index=True)


class TrackingOptOut(Base):
    """A shopper who said no to tracking: no events are kept, no segments exported."""

    __tablename__ = "bot_tracking_optouts"
    shopper: Mapped[str] = mapped_column(String(160), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


@dataclass(frozen=True)
class EventIn:
    """A validated event from a batch."""

    type: str
    product_id: int | None
    query: str | None


def shopper_key(customer_id: str | None, conversation: str) -> str:
    """Whose event it is: the signed-in customer, else the conversation."""
    return f"customer:{customer_id}" if customer_id else conversation


def parse_batch(payload: dict[str, Any]) -> tuple[list[EventIn], bool]:
    """Validate `{"events": [{type, product_id?, query?}, ...], "consent"?: bool}`.

    Returns:
        The events and whether the shopper consented (default True, as the widget
        only sends when tracking is allowed). A batch with `"consent": false` may
        have no events: it records the opt-out.

    Raises:
        InvalidMessageError: Not a list of known events, too many, or a bad field,
            saying which event and what to send instead.
    """
    consent = payload.get("consent", True)
    if not isinstance(consent, bool):
        raise InvalidMessageError(f"expected `consent` to be true or false, found {consent!r:.40}")
    raw = payload.get("events", [] if "consent" in payload else None)
    if "consent" in payload and raw == []:
        return [], consent  # only the shopper's choice
    if not isinstance(raw, list) or not raw:
        raise InvalidMessageError(
            'expected `events` to be a non-empty list like [{"type": "product_view", '
            '"product_id": 12}]'
        )
    if len(raw) > MAX_EVENTS_PER_BATCH:
        raise InvalidMessageError(
            f"expected at most {MAX_EVENTS_PER_BATCH} events in a batch, found {len(raw)}; "
            "send them in smaller batches"
        )
    events: list[EventIn] = []
    for index, item in enumerate(raw):
        where = f"events[{index}]"
        if not isinstance(item, dict):
            raise InvalidMessageError(f"expected {where} to be an object, found {item!r:.40}")
        kind = item.get("type")
        if kind not in EVENT_TYPES:
            raise InvalidMessageError(
                f"expected {where}.type to be one of {', '.join(EVENT_TYPES)}, found {kind!r:.40}"
            )
        product = item.get("product_id")
        if product is not None and (
            isinstance(product, bool) or not isinstance(product, int) or not 0 < product < 2**31
        ):
            raise InvalidMessageError(
                f"expected {where}.product_id to be a positive integer, found {product!r:.40}"
            )
        query = item.get("query")
        if query is not None and not isinstance(query, str):
            raise InvalidMessageError(f"expected {where}.query to be text, found {query!r:.40}")
        if kind == "search" and not (query and query.strip()):
            raise InvalidMessageError(f"expected {where} (a search) to have a `query`")
        if kind != "search" and product is None:
            raise InvalidMessageError(f"expected {where} ({kind}) to have a `product_id`")
        text = redact(query.strip()[:MAX_QUERY_CHARS]) if query else None
        events.append(EventIn(type=str(kind), product_id=product, query=text))
    return events, consent


def store_events(
    engine: Engine, shopper: str, conversation: str | None, events: Sequence[EventIn]
) -> int:
    """Write the events (already validated, consented); returns how many were stored."""
    if not events:
        return 0
    now = _now()
    rows = [
        {
            "shopper": shopper[:160],
            "conversation": conversation,
            "type": e.type,
            "product_id": e.product_id,
            "query": e.query,
            "consent": True,
            "created_at": now,
        }
        for e in events
    ]
    with engine.begin() as conn:
        conn.execute(insert(BehaviourEvent), rows)
    return len(rows)


def set_consent(engine: Engine, shopper: str, consent: bool) -> int:
    """Record a shopper's tracking choice; saying no deletes their events.

    Returns:
        How many stored events were deleted.
    """
    with engine.begin() as conn:
        if consent:
            conn.execute(delete(TrackingOptOut).where(TrackingOptOut.shopper == shopper))
            return 0
        known = conn.scalar(select(TrackingOptOut.shopper).where(TrackingOptOut.shopper == shopper))
        if known is None:
            conn.execute(insert(TrackingOptOut).values(shopper=shopper[:160], created_at=_now()))
        result = conn.execute(delete(BehaviourEvent).where(BehaviourEvent.shopper == shopper))
    return rowcount(result)


def opted_out(engine: Engine) -> set[str]:
    """Every shopper key that said no to tracking."""
    with engine.connect() as conn:
        return set(conn.scalars(select(TrackingOptOut.shopper)))


def recent_products(engine: Engine, shopper: str, limit: int = 50) -> list[int]:
    """The shopper's recent product events' product ids, oldest first."""
    query = (
        select(BehaviourEvent.product_id)
        .where(BehaviourEvent.shopper == shopper, BehaviourEvent.product_id.is_not(None))
        .order_by(BehaviourEvent.created_at.desc(), BehaviourEvent.id.desc())
        .limit(limit)
    )
    with engine.connect() as conn:
        ids = [int(p) for p in conn.scalars(query) if p is not None]
    return list(reversed(ids))


def purge_events(engine: Engine, cutoff: datetime) -> int:
    """Delete events older than `cutoff` (the retention period)."""
    with engine.begin() as conn:
        result = conn.execute(delete(BehaviourEvent).where(BehaviourEvent.created_at < cutoff))
    return rowcount(result)
