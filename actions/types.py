"""Payload shapes the actions send back (see ARCHITECTURE.md, action server call)."""

from __future__ import annotations

from typing import TypedDict


class ProductCard(TypedDict):
    """One product in `custom.products`, best first."""

    id: int  # catalog id
    title: str  # display name
    brand: str | None  # None when the catalog has no brand
    price: float  # current price in USD
    rating: float  # average review rating, 0-5
    availability: str  # "In Stock", "Low Stock" or "Out of Stock"
