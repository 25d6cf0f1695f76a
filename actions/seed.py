"""The seeding routine: a demo order history derived from the catalog's carts.

The sources (the DummyJSON catalog, the shop's policies) are read by
`actions.catalog_source`; `actions.store` inserts the catalog and this history.

The history is deterministic: the same carts and the same seed give the same internal
order ids, statuses, carriers and tracking numbers (dates are relative to the anchor
day). The numbers shoppers see (order numbers, invoice numbers) are drawn with
`secrets` instead, so each install has its own and a public seed does not reveal them.
Every cart becomes one order; order statuses cover the whole lifecycle.
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from actions.catalog_source import (
    CartData,
    ProductRow,
    catalog_terms,
    load_carts,
    load_products,
    load_reviews,
    load_shop_data,
)
from actions.models import OrderStatus, RefundStatus
from actions.orders import new_order_number

# `actions.store` seeds from the readers of `actions.catalog_source` through this module.
__all__ = [
    "CartData",
    "History",
    "ProductRow",
    "catalog_terms",
    "derive_history",
    "load_carts",
    "load_products",
    "load_reviews",
    "load_shop_data",
]

# Share of each status in the derived history (every status appears).
_STATUS_WEIGHTS: dict[OrderStatus, int] = {
    OrderStatus.DELIVERED: 40,
    OrderStatus.SHIPPED: 15,
    OrderStatus.PAID: 12,
    OrderStatus.PLACED: 8,
    OrderStatus.CANCELLED: 12,
    OrderStatus.REFUNDED: 13,
}
_FIRST_NAMES = [
    "Emma",
    "Liam",
    "Olivia",
    "Noah",
    "Ava",
    "Elijah",
    "Sophia",
    "James",
    "Mia",
    "Lucas",
    "Amelia",
    "Mason",
    "Harper",
    "Ethan",
    "Evelyn",
    "Logan",
    "Aria",
    "Mateo",
    "Chloe",
    "Leo",
]
_LAST_NAMES = [
    "Smith",
    "Johnson",
    "Garcia",
    "Brown",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Wilson",
    "Anderson",
    "Taylor",
    "Thomas",
    "Moore",
    "Jackson",
    "Lee",
    "Harris",
]
_STREETS = ["Maple Ave", "Oak St", "Pine Rd", "Cedar Ln", "Elm St", "Lakeview Dr", "Hillside Blvd"]
_CITIES = [
    ("Portland", "OR", "97201"),
    ("Austin", "TX", "73301"),
    ("Denver", "CO", "80202"),
    ("Columbus", "OH", "43004"),
    ("Raleigh", "NC", "27601"),
    ("Madison", "WI", "53703"),
]
_HUBS = ["Louisville, KY", "Memphis, TN", "Indianapolis, IN", "Ontario, CA", "Allentown, PA"]
_REFUND_REASONS = [
    "Item arrived damaged",
    "Changed my mind",
    "Item not as described",
    "Wrong size",
    "Ordered by mistake",
]


@dataclass
class History:
    """Rows of the derived demo history, ready for bulk insert."""

    customers: list[dict[str, Any]]
    carts: list[dict[str, Any]]
    cart_lines: list[dict[str, Any]]
    orders: list[dict[str, Any]]
    order_lines: list[dict[str, Any]]
    shipments: list[dict[str, Any]]
    tracking_events: list[dict[str, Any]]
    refunds: list[dict[str, Any]]
    invoices: list[dict[str, Any]]


def _status_plan(n: int, rng: random.Random) -> list[OrderStatus]:
    total = sum(_STATUS_WEIGHTS.values())
    plan: list[OrderStatus] = []
    for status, weight in _STATUS_WEIGHTS.items():
        plan.extend([status] * max(1, round(n * weight / total)))
    while len(plan) < n:
        plan.append(OrderStatus.DELIVERED)
    plan = plan[:n]
    rng.shuffle(plan)
    return plan


def derive_history(
    carts: list[CartData],
    products: list[ProductRow],
    shop: dict[str, Any],
    *,
    seed: int,
    anchor: datetime,
) -> History:
    """Turn seed carts into customers, orders, shipments, refunds and invoices.

    Args:
        carts: Seed carts (each becomes one order).
        products: Catalog rows (prices and names).
        shop: Shop data from `load_shop_data` (delivery options, payment methods, carriers).
        seed: Random seed; the same seed gives the same internal ids and statuses
            (order and invoice numbers come from `secrets`, new on every call).
        anchor: "Now" of the history; every date lies before it.

    Returns:
        The rows to insert.
    """
    rng = random.Random(seed)
    by_id = {p["id"]: p for p in products}
    carts = [c for c in carts if c.lines and all(ln.product_id in by_id for ln in c.lines)]
    history = History([], [], [], [], [], [], [], [], [])

    for user_id in sorted({c.user_id for c in carts}):
        first, last = rng.choice(_FIRST_NAMES), rng.choice(_LAST_NAMES)
        city, state, zip_code = rng.choice(_CITIES)
        history.customers.append(
            {
                "id": user_id,
                "name": f"{first} {last}",
                "email": f"{first}.{last}.{user_id}@example.com".lower(),
                "address": f"{rng.randint(1, 9999)} {rng.choice(_STREETS)}, {city}, {state} {zip_code}",
            }
        )
    addresses = {c["id"]: c["address"] for c in history.customers}

    order_ids = sorted(rng.sample(range(100_000, 1_000_000), len(carts)))
    order_numbers = _unique(new_order_number, len(carts))
    invoice_suffixes = iter(_unique(lambda: f"{secrets.randbelow(10**6):06d}", len(carts)))
    statuses = _status_plan(len(carts), rng)
    options = shop["delivery_options"]
    payments = [m["name"] for m in shop["payment_methods"]]
    carriers = shop["carriers"]
    line_id = 0
    for cart, order_id, number, status in zip(
        carts, order_ids, order_numbers, statuses, strict=True
    ):
        history.carts.append({"id": cart.id, "customer_id": cart.user_id})
        for ln in cart.lines:
            history.cart_lines.append(
                {"cart_id": cart.id, "product_id": ln.product_id, "quantity": ln.quantity}
            )
        option = rng.choices(options, weights=[6, 2, 1, 1][: len(options)])[0]
        subtotal = 0.0
        discounted = 0.0
        for ln in cart.lines:
            price = by_id[ln.product_id]["price"]
            line_total = round(price * ln.quantity * (1 - ln.discount_percentage / 100), 2)
            subtotal += price * ln.quantity
            discounted += line_total
            line_id += 1
            history.order_lines.append(
                {
                    "id": line_id,
                    "order_id": order_id,
                    "product_id": ln.product_id,
                    "quantity": ln.quantity,
                    "unit_price": price,
                    "discount_percentage": ln.discount_percentage,
                    "line_total": line_total,
                }
            )
        free = option["free_over"] is not None and discounted >= option["free_over"]
        shipping_cost = 0.0 if free else float(option["price"])
        total = round(discounted + shipping_cost, 2)

        age_days = {
            OrderStatus.PLACED: (0, 1),
            OrderStatus.PAID: (0, 2),
            OrderStatus.SHIPPED: (2, 5),
            OrderStatus.DELIVERED: (8, 80),
            OrderStatus.CANCELLED: (3, 60),
            OrderStatus.REFUNDED: (25, 90),
        }[status]
        placed = anchor - timedelta(days=rng.randint(*age_days), hours=rng.randint(1, 20))
        order: dict[str, Any] = {
            "id": order_id,
            "number": number,
            "customer_id": cart.user_id,
            "status": status.value,
            "placed_at": placed,
            "paid_at": None,
            "shipped_at": None,
            "delivered_at": None,
            "cancelled_at": None,
            "shipping_address": addresses[cart.user_id],
            "shipping_method": option["name"],
            "payment_method": rng.choice(payments),
            "subtotal": round(subtotal, 2),
            "discount": round(subtotal - discounted, 2),
            "shipping_cost": shipping_cost,
            "total": total,
            "currency": "USD",
        }
        paid = status != OrderStatus.PLACED and not (
            status == OrderStatus.CANCELLED and rng.random() < 0.5
        )
        if paid:
            order["paid_at"] = placed + timedelta(minutes=rng.randint(1, 30))
            history.invoices.append(
                {
                    "number": f"INV-{order['paid_at'].year}-{next(invoice_suffixes)}",
                    "order_id": order_id,
                    "issued_at": order["paid_at"],
                    "amount": total,
                    "tax": round(total * 0.08 / 1.08, 2),
                    "currency": "USD",
                }
            )
        if status == OrderStatus.CANCELLED:
            order["cancelled_at"] = placed + timedelta(hours=rng.randint(1, 30))
            if paid:
                history.refunds.append(
                    {
                        "order_id": order_id,
                        "amount": total,
                        "status": RefundStatus.COMPLETED.value,
                        "reason": "Order cancelled before shipping",
                        "requested_at": order["cancelled_at"],
                        "completed_at": order["cancelled_at"] + timedelta(days=3),
                    }
                )
        if status in (OrderStatus.SHIPPED, OrderStatus.DELIVERED, OrderStatus.REFUNDED):
            _add_shipment(history, order, option, rng.choice(carriers), rng, anchor)
        if status == OrderStatus.REFUNDED:
            requested = order["delivered_at"] + timedelta(days=rng.randint(2, 10))
            history.refunds.append(
                {
                    "order_id": order_id,
                    "amount": round(discounted, 2),
                    "status": RefundStatus.COMPLETED.value,
                    "reason": rng.choice(_REFUND_REASONS),
                    "requested_at": requested,
                    "completed_at": requested + timedelta(days=rng.randint(3, 8)),
                }
            )
        elif status == OrderStatus.DELIVERED and rng.random() < 0.15:
            # A return in progress: the order stays delivered until the refund completes.
            history.refunds.append(
                {
                    "order_id": order_id,
                    "amount": round(discounted, 2),
                    "status": rng.choice([RefundStatus.REQUESTED, RefundStatus.APPROVED]).value,
                    "reason": rng.choice(_REFUND_REASONS),
                    "requested_at": min(anchor, order["delivered_at"] + timedelta(days=3)),
                    "completed_at": None,
                }
            )
        history.orders.append(order)
    return history


def _unique(draw: Callable[[], str], n: int) -> list[str]:
    """`n` distinct values of `draw()` (a `secrets`-based generator), in drawing order."""
    seen: dict[str, None] = {}
    while len(seen) < n:
        seen.setdefault(draw(), None)
    return list(seen)


def _add_shipment(
    history: History,
    order: dict[str, Any],
    option: dict[str, Any],
    carrier: str,
    rng: random.Random,
    anchor: datetime,
) -> None:
    shipment_id = len(history.shipments) + 1
    shipped = order["paid_at"] + timedelta(hours=rng.randint(12, 36))
    order["shipped_at"] = shipped
    eta = shipped + timedelta(days=int(option["max_days"]))
    delivered: datetime | None = None
    if order["status"] != OrderStatus.SHIPPED:
        delivered = shipped + timedelta(
            days=rng.randint(int(option["min_days"]), int(option["max_days"])), hours=3
        )
        order["delivered_at"] = delivered
    else:
        eta = max(eta, anchor + timedelta(days=1))
    prefix = {"UPS": "1Z", "FedEx": "FX", "DHL": "JD", "USPS": "94"}.get(carrier, "TR")
    history.shipments.append(
        {
            "id": shipment_id,
            "order_id": order["id"],
            "carrier": carrier,
            "tracking_number": f"{prefix}{rng.randrange(10**11, 10**12)}",
            "shipped_at": shipped,
            "estimated_delivery": eta,
            "delivered_at": delivered,
        }
    )
    city = order["shipping_address"].split(", ", 1)[-1]
    events = [
        (
            shipped - timedelta(hours=6),
            "label_created",
            "Shop warehouse, Columbus, OH",
            "Shipping label created",
        ),
        (shipped, "picked_up", "Shop warehouse, Columbus, OH", f"Picked up by {carrier}"),
        (
            shipped + timedelta(hours=20),
            "in_transit",
            rng.choice(_HUBS),
            "Arrived at carrier facility",
        ),
    ]
    if delivered is not None:
        events.append(
            (delivered - timedelta(hours=5), "out_for_delivery", city, "Out for delivery")
        )
        events.append((delivered, "delivered", city, "Delivered to the front door"))
    for occurred, status, location, description in events:
        if occurred <= anchor:
            history.tracking_events.append(
                {
                    "shipment_id": shipment_id,
                    "occurred_at": occurred,
                    "status": status,
                    "location": location,
                    "description": description,
                }
            )
