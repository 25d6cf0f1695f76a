"""Personal recommendations: what this shopper did, ranked by the sequential recommender.

A shopper's history is their purchases (order lines of the signed-in customer) and
their behaviour events (`bot_events`, written by the bot with consent: product
views, cart adds, purchases), oldest first. The recommender (`recs`, trained by
`shopintent recs train` from the same store) ranks the catalogue after that
sequence, and the categories of the shopper's latest steps lift their products (a few
orders teach a small shop's model little about categories); what they already bought is never recommended. Without a model or a
history the caller falls back to the shop-wide recommendations.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import inspect, select, text
from sqlalchemy.orm import Session

from actions.config import get_settings
from actions.models import Order, OrderLine, Product

logger = logging.getLogger(__name__)
EVENTS_TABLE = "bot_events"
MAX_HISTORY = 50
CANDIDATES = 200  # the model's best, re-ranked by the shopper's recent categories
RECENT = 8  # latest steps whose categories count
CATEGORY_WEIGHT = 1.0  # a category making up all recent steps weighs as the model's top item

_lock = threading.Lock()
_loaded: dict[Path, tuple[float, Any]] = {}


@dataclass(frozen=True)
class History:
    """A shopper's products in time order, and the ones they bought."""

    items: list[int]
    purchased: set[int]
    last_viewed: int | None


def recommender(model_dir: Path | None = None) -> Any | None:
    """The trained recommender in `model_dir` (default `SHOPINTENT_RECS_DIR`), or None.

    Loaded once and reloaded when its files change (a retrained model is picked up).
    """
    folder = Path(model_dir or get_settings().recs_dir)
    meta = folder / "recs.json"
    if not meta.is_file():
        return None
    stamp = meta.stat().st_mtime
    with _lock:
        cached = _loaded.get(folder)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        try:
            from recs import Recommender
        except ImportError as exc:
            # The serving install has no torch: today's recommendations answer instead.
            if folder not in _loaded:
                logger.warning(
                    "personal recommendations need the training install (%s); "
                    "using today's recommendations",
                    exc,
                )
            _loaded[folder] = (stamp, None)
            return None
        try:
            model = Recommender.load(folder)
        except Exception:
            logger.exception(
                "the recommender in %s could not be loaded; using the fallback", folder
            )
            return None
        _loaded[folder] = (stamp, model)
        return model


def history(session: Session, customer_id: str | None, conversation: str) -> History:
    """Purchases of the signed-in customer plus the shopper's consented events, in time order."""
    stamped: list[tuple[Any, int, str]] = []
    purchased: set[int] = set()
    if customer_id and customer_id.isdigit():
        rows = session.execute(
            select(Order.placed_at, OrderLine.product_id)
            .join(OrderLine, OrderLine.order_id == Order.id)
            .where(Order.customer_id == int(customer_id))
        ).all()
        for placed, product in rows:
            stamped.append((placed, int(product), "purchase"))
            purchased.add(int(product))
    shopper = f"customer:{customer_id}" if customer_id else conversation
    bind = session.get_bind()
    if inspect(bind).has_table(EVENTS_TABLE):
        events = session.execute(
            text(
                f"SELECT created_at, product_id, type FROM {EVENTS_TABLE} "
                "WHERE shopper = :shopper AND product_id IS NOT NULL AND consent "
                "ORDER BY created_at DESC, id DESC LIMIT :limit"
            ),
            {"shopper": shopper, "limit": MAX_HISTORY},
        ).all()
        for created, product, kind in events:
            stamped.append((_naive(created), int(product), str(kind)))
            if kind == "purchase":
                purchased.add(int(product))
    stamped.sort(key=lambda row: (str(row[0]), row[1]))
    views = [p for _, p, kind in stamped if kind in ("product_view", "add_to_cart")]
    return History(
        items=[p for _, p, _ in stamped][-MAX_HISTORY:],
        purchased=purchased,
        last_viewed=views[-1] if views else None,
    )


def _naive(value: Any) -> Any:
    if hasattr(value, "tzinfo") and value.tzinfo is not None:
        return value.replace(tzinfo=None)
    return value


def personal_picks(
    session: Session,
    shopper_history: History,
    *,
    limit: int = 5,
    categories: list[str] | None = None,
    max_price: float | None = None,
    min_price: float | None = None,
) -> list[int]:
    """Product ids the recommender ranks highest after this history, within the filters.

    Returns:
        Up to `limit` product ids, best first; empty when there is no model or no
        usable history (the caller falls back).
    """
    model = recommender()
    if model is None or not shopper_history.items:
        return []
    allowed: set[str] | None = None
    if categories or max_price is not None or min_price is not None:
        query = select(Product.id)
        if categories:
            query = query.where(Product.category.in_(categories))
        if max_price is not None:
            query = query.where(Product.price <= max_price)
        if min_price is not None:
            query = query.where(Product.price >= min_price)
        allowed = {str(p) for p in session.scalars(query)}
        if not allowed:
            return []
    ranked = model.recommend(
        [str(p) for p in shopper_history.items],
        k=CANDIDATES,
        # Never what they bought, nor what they just looked at: something new.
        exclude={str(p) for p in (*shopper_history.purchased, *shopper_history.items)},
        allowed=allowed,
    )
    if not ranked:
        return []
    # The model knows sequences; a small shop's few orders teach it little about
    # categories, so the categories of the shopper's latest steps lift their products.
    recent = shopper_history.items[-RECENT:]
    category_of = dict(
        session.execute(
            select(Product.id, Product.category).where(
                Product.id.in_([*recent, *(int(i) for i, _ in ranked)])
            )
        ).all()
    )
    counts: dict[str, int] = {}
    for product in recent:
        category = category_of.get(product)
        if category is not None:
            counts[category] = counts.get(category, 0) + 1
    best = max(score for _, score in ranked) or 1.0

    def blended(entry: tuple[str, float]) -> float:
        item, score = entry
        affinity = counts.get(category_of.get(int(item), ""), 0) / max(len(recent), 1)
        return score / best + CATEGORY_WEIGHT * affinity

    return [int(item) for item, _score in sorted(ranked, key=blended, reverse=True)][:limit]
