"""Formatting helpers shared by the actions' replies."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from actions.ranking import ProductHit
from core.wire import Button


def money(amount: float | None) -> str:
    """Format dollars: 1234.5 → "$1,234.50"."""
    return f"${(amount or 0.0):,.2f}"


def day(when: datetime | None) -> str:
    """Format a date for shoppers: "Nov 28, 2026"."""
    return when.strftime("%b %d, %Y").replace(" 0", " ") if when else "unknown date"


def product_line(hit: ProductHit, rank: int | None = None) -> str:
    """One line of a product list: "1. Title (Brand) - $9.99, 4.5★, In Stock"."""
    prefix = f"{rank}. " if rank is not None else "- "
    brand = f" ({hit.brand})" if hit.brand and hit.brand.lower() not in hit.title.lower() else ""
    return f"{prefix}{hit.title}{brand} - {money(hit.price)}, {hit.rating:.1f}★, {hit.availability}"


def product_list(hits: Sequence[ProductHit]) -> str:
    """Numbered product lines."""
    return "\n".join(product_line(h, i) for i, h in enumerate(hits, start=1))


def ask_buttons(questions: Sequence[tuple[str, str]]) -> list[Button]:
    """Quick replies whose payload is the question the shopper would type."""
    return [Button(title=title, payload=payload) for title, payload in questions]


def truncate(text: str, limit: int = 60) -> str:
    """Shorten echoed shopper text so a reply never repeats kilobytes of input."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
