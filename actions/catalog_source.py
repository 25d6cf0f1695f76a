"""The seed's sources: the DummyJSON catalog files and the shop's own data file.

`products.json`, `carts.json` (DummyJSON shape, a bare list or wrapped as
`{"products": [...]}`) and `data/shop.json` (policies, delivery options, payment
methods, carriers) are read and checked here; `actions.seed` turns the carts into an
order history and `actions.store` inserts both.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TypedDict

from actions.errors import CatalogSourceError

SHOP_DATA_FILE = Path(__file__).resolve().parent / "data" / "shop.json"
_TERM_RE = re.compile(r"[a-z0-9]+")


class ProductRow(TypedDict):
    """Column values of one `products` row."""

    id: int
    sku: str
    title: str
    description: str
    brand: str | None
    category: str
    price: float
    discount_percentage: float
    rating: float
    stock: int
    availability: str
    tags: list[str]
    warranty: str
    shipping_info: str
    return_policy: str
    weight: float | None
    dimensions: dict[str, Any] | None
    minimum_order_quantity: int
    thumbnail: str | None


@dataclass(frozen=True)
class CartLineData:
    """One product line of a seed cart."""

    product_id: int
    quantity: int
    discount_percentage: float


@dataclass(frozen=True)
class CartData:
    """A seed cart: the customer and what they put in it."""

    id: int
    user_id: int
    lines: tuple[CartLineData, ...]


def _load_json(path: Path) -> Any:
    if not path.is_file():
        raise CatalogSourceError(
            f"expected the catalog file {path}, but it does not exist. "
            "Set SHOPINTENT_CATALOG_DIR to the folder holding products.json and carts.json."
        )
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise CatalogSourceError(f"{path} is not valid JSON ({exc}); restore the file.") from exc


def _records(data: Any, key: str, path: Path) -> list[dict[str, Any]]:
    # DummyJSON dumps come either as a bare list or wrapped as {"products": [...]}.
    items = data.get(key) if isinstance(data, dict) else data
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise CatalogSourceError(
            f"expected {path} to hold a list of {key} objects (or {{'{key}': [...]}}), "
            f"but found {type(items).__name__}."
        )
    return items


def load_products(catalog_dir: Path) -> list[ProductRow]:
    """Read `products.json` (DummyJSON shape) into `products` rows.

    Args:
        catalog_dir: Folder holding `products.json`.

    Returns:
        One row per product, in file order.

    Raises:
        CatalogSourceError: The file is missing, not JSON, or lacks required fields.
    """
    path = catalog_dir / "products.json"
    rows: list[ProductRow] = []
    for item in _records(_load_json(path), "products", path):
        missing = [k for k in ("id", "title", "category", "price") if k not in item]
        if missing:
            raise CatalogSourceError(
                f"expected every product in {path} to have id, title, category and price, "
                f"but product {item.get('id', '?')} lacks {missing}."
            )
        rows.append(
            ProductRow(
                id=int(item["id"]),
                sku=str(item.get("sku") or f"SKU-{item['id']}"),
                title=str(item["title"]),
                description=str(item.get("description") or ""),
                brand=(str(item["brand"]) if item.get("brand") else None),
                category=str(item["category"]),
                price=float(item["price"]),
                discount_percentage=float(item.get("discountPercentage") or 0.0),
                rating=float(item.get("rating") or 0.0),
                stock=int(item.get("stock") or 0),
                availability=str(item.get("availabilityStatus") or "In Stock"),
                tags=[str(t) for t in item.get("tags") or []],
                warranty=str(item.get("warrantyInformation") or ""),
                shipping_info=str(item.get("shippingInformation") or ""),
                return_policy=str(item.get("returnPolicy") or ""),
                weight=(float(item["weight"]) if item.get("weight") is not None else None),
                dimensions=item.get("dimensions"),
                minimum_order_quantity=int(item.get("minimumOrderQuantity") or 1),
                thumbnail=item.get("thumbnail"),
            )
        )
    return rows


def load_reviews(catalog_dir: Path) -> list[dict[str, Any]]:
    """Read the product reviews of `products.json` as `product_reviews` rows (no e-mails)."""
    path = catalog_dir / "products.json"
    rows: list[dict[str, Any]] = []
    for item in _records(_load_json(path), "products", path):
        for review in item.get("reviews") or []:
            rows.append(
                {
                    "product_id": int(item["id"]),
                    "rating": int(review.get("rating") or 0),
                    "comment": str(review.get("comment") or ""),
                    "reviewer_name": str(review.get("reviewerName") or ""),
                    "created_at": _parse_date(review.get("date")),
                }
            )
    return rows


def _parse_date(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).replace(tzinfo=None)
    except ValueError:
        return None


def load_carts(catalog_dir: Path) -> list[CartData]:
    """Read `carts.json` (DummyJSON shape).

    Args:
        catalog_dir: Folder holding `carts.json`.

    Returns:
        The carts sorted by id.

    Raises:
        CatalogSourceError: The file is missing or not in the DummyJSON cart shape.
    """
    path = catalog_dir / "carts.json"
    carts: list[CartData] = []
    for item in _records(_load_json(path), "carts", path):
        try:
            lines = tuple(
                CartLineData(
                    product_id=int(p["id"]),
                    quantity=max(1, int(p.get("quantity") or 1)),
                    discount_percentage=float(p.get("discountPercentage") or 0.0),
                )
                for p in item["products"]
            )
            carts.append(CartData(id=int(item["id"]), user_id=int(item["userId"]), lines=lines))
        except (KeyError, TypeError, ValueError) as exc:
            raise CatalogSourceError(
                f"expected each cart in {path} to have id, userId and products[{{id, quantity}}], "
                f"but cart {item.get('id', '?')} does not ({exc!r})."
            ) from exc
    return sorted(carts, key=lambda c: c.id)


def load_shop_data(path: Path = SHOP_DATA_FILE) -> dict[str, Any]:
    """Read the shop's policies, delivery options, payment methods and carriers."""
    data = _load_json(path)
    for key in ("policies", "delivery_options", "payment_methods", "carriers"):
        if key not in data:
            raise CatalogSourceError(f"expected key {key!r} in {path}; restore the file.")
    return dict(data)


def catalog_terms(products: list[ProductRow]) -> Counter[str]:
    """Count, per word, the products whose title, brand, category or tags contain it."""
    counts: Counter[str] = Counter()
    for p in products:
        text = " ".join([p["title"], p["brand"] or "", p["category"], *p["tags"]]).lower()
        counts.update(set(_TERM_RE.findall(text)))
    return counts
