"""SQLAlchemy 2.x models of the shop: catalog, customers, orders and support tickets.

All timestamps are naive UTC (`datetime.utcnow`-style) so SQLite and PostgreSQL
round-trip the same values. Money is stored as NUMERIC(12, 2) and read as float.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, DateTime, Float, ForeignKey, Index, Integer, Numeric, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

Money = Numeric(12, 2, asdecimal=False)


class Base(DeclarativeBase):
    """Declarative base of every table the action server owns."""


class OrderStatus(StrEnum):
    """Lifecycle of an order; `cancelled` and `refunded` are terminal."""

    PLACED = "placed"
    PAID = "paid"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"


class RefundStatus(StrEnum):
    """Where a refund stands."""

    REQUESTED = "requested"
    APPROVED = "approved"
    COMPLETED = "completed"
    REJECTED = "rejected"


class ChangeKind(StrEnum):
    """A change a shopper can ask for on an order (pending changes and audit actions)."""

    CANCEL = "cancel"
    CHANGE_ADDRESS = "change_address"


class Product(Base):
    """A catalog item with the DummyJSON fields a shopper asks about."""

    __tablename__ = "products"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    sku: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    brand: Mapped[str | None] = mapped_column(String(120), index=True)
    category: Mapped[str] = mapped_column(String(120))
    price: Mapped[float] = mapped_column(Money)
    discount_percentage: Mapped[float] = mapped_column(Float, default=0.0)
    rating: Mapped[float] = mapped_column(Float, default=0.0)
    stock: Mapped[int] = mapped_column(Integer, default=0)
    availability: Mapped[str] = mapped_column(String(40))
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    warranty: Mapped[str] = mapped_column(String(200), default="")
    shipping_info: Mapped[str] = mapped_column(String(200), default="")
    return_policy: Mapped[str] = mapped_column(String(200), default="")
    weight: Mapped[float | None] = mapped_column(Float)
    dimensions: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    minimum_order_quantity: Mapped[int] = mapped_column(Integer, default=1)
    thumbnail: Mapped[str | None] = mapped_column(String(500))

    reviews: Mapped[list[ProductReview]] = relationship(
        back_populates="product", cascade="all, delete-orphan"
    )

    __table_args__ = (
        Index("ix_products_category_rating", "category", "rating"),
        Index("ix_products_price", "price"),
    )


class ProductReview(Base):
    """A shopper's review of a product (reviewer e-mails are not stored)."""

    __tablename__ = "product_reviews"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    product_id: Mapped[int] = mapped_column(
        ForeignKey("products.id", ondelete="CASCADE"), index=True
    )
    rating: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text, default="")
    reviewer_name: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime | None] = mapped_column(DateTime)

    product: Mapped[Product] = relationship(back_populates="reviews")


class Customer(Base):
    """A shopper with an account."""

    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320), unique=True)
    address: Mapped[str] = mapped_column(String(500), default="")


class Order(Base):
    """An order with its status dates.

    `id` is the internal key the other tables point at and is never shown to
    shoppers; `number` is the unguessable reference they see and type
    (`actions.orders.new_order_number`).
    """

    __tablename__ = "orders"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    number: Mapped[str] = mapped_column(String(24), unique=True, index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), index=True)
    placed_at: Mapped[datetime] = mapped_column(DateTime)
    paid_at: Mapped[datetime | None] = mapped_column(DateTime)
    shipped_at: Mapped[datetime | None] = mapped_column(DateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime)
    shipping_address: Mapped[str] = mapped_column(String(500))
    shipping_method: Mapped[str] = mapped_column(String(80))
    payment_method: Mapped[str] = mapped_column(String(80))
    subtotal: Mapped[float] = mapped_column(Money)
    discount: Mapped[float] = mapped_column(Money, default=0.0)
    shipping_cost: Mapped[float] = mapped_column(Money, default=0.0)
    total: Mapped[float] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3), default="USD")

    customer: Mapped[Customer] = relationship()
    lines: Mapped[list[OrderLine]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="OrderLine.id"
    )
    shipment: Mapped[Shipment | None] = relationship(
        back_populates="order", cascade="all, delete-orphan"
    )
    refunds: Mapped[list[Refund]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="Refund.id"
    )
    invoice: Mapped[Invoice | None] = relationship(
        back_populates="order", cascade="all, delete-orphan"
    )


class OrderAudit(Base):
    """A change made to an order on a shopper's behalf (who, what, when, in which chat).

    `details` holds before/after facts such as statuses and refund amounts, never a
    full street address.
    """

    __tablename__ = "order_audit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime)
    actor: Mapped[str] = mapped_column(String(160))
    action: Mapped[str] = mapped_column(String(40))
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    conversation: Mapped[str] = mapped_column(String(128))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class OrderLookupFailure(Base):
    """One failed order lookup, counted per conversation or per client to slow guessing."""

    __tablename__ = "order_lookup_failures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scope: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(128))
    at: Mapped[datetime] = mapped_column(DateTime)

    __table_args__ = (Index("ix_order_lookup_failures_scope_key_at", "scope", "key", "at"),)


class PendingChange(Base):
    """A cancel or address change waiting for the shopper's confirmation in one chat."""

    __tablename__ = "pending_changes"

    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    conversation: Mapped[str] = mapped_column(String(128), index=True)
    actor: Mapped[str] = mapped_column(String(160))
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    new_address: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    expires_at: Mapped[datetime] = mapped_column(DateTime)

    order: Mapped[Order] = relationship()


class OrderLine(Base):
    """One product of an order, at the price paid."""

    __tablename__ = "order_lines"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price: Mapped[float] = mapped_column(Money)
    discount_percentage: Mapped[float] = mapped_column(Float, default=0.0)
    line_total: Mapped[float] = mapped_column(Money)

    order: Mapped[Order] = relationship(back_populates="lines")
    product: Mapped[Product] = relationship()


class Shipment(Base):
    """The parcel of a shipped order."""

    __tablename__ = "shipments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), unique=True)
    carrier: Mapped[str] = mapped_column(String(80))
    tracking_number: Mapped[str] = mapped_column(String(80), unique=True)
    shipped_at: Mapped[datetime] = mapped_column(DateTime)
    estimated_delivery: Mapped[datetime] = mapped_column(DateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime)

    order: Mapped[Order] = relationship(back_populates="shipment")
    events: Mapped[list[TrackingEvent]] = relationship(
        back_populates="shipment",
        cascade="all, delete-orphan",
        order_by="TrackingEvent.occurred_at",
    )


class TrackingEvent(Base):
    """A carrier scan of a shipment."""

    __tablename__ = "tracking_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    shipment_id: Mapped[int] = mapped_column(
        ForeignKey("shipments.id", ondelete="CASCADE"), index=True
    )
    occurred_at: Mapped[datetime] = mapped_column(DateTime)
    status: Mapped[str] = mapped_column(String(40))
    location: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(String(300))

    shipment: Mapped[Shipment] = relationship(back_populates="events")


class Refund(Base):
    """Money going back to the shopper for an order."""

    __tablename__ = "refunds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    amount: Mapped[float] = mapped_column(Money)
    status: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(String(300))
    requested_at: Mapped[datetime] = mapped_column(DateTime)
    completed_at: Mapped[datetime | None] = mapped_column(DateTime)

    order: Mapped[Order] = relationship(back_populates="refunds")


class Invoice(Base):
    """The invoice issued once an order is paid."""

    __tablename__ = "invoices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), unique=True)
    issued_at: Mapped[datetime] = mapped_column(DateTime)
    amount: Mapped[float] = mapped_column(Money)
    tax: Mapped[float] = mapped_column(Money, default=0.0)
    currency: Mapped[str] = mapped_column(String(3), default="USD")

    order: Mapped[Order] = relationship(back_populates="invoice")


class Cart(Base):
    """A shopping cart from the seed data; a co-purchase signal for recommendations."""

    __tablename__ = "carts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)

    lines: Mapped[list[CartLine]] = relationship(cascade="all, delete-orphan")


class CartLine(Base):
    """One product in a cart."""

    __tablename__ = "cart_lines"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cart_id: Mapped[int] = mapped_column(ForeignKey("carts.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    quantity: Mapped[int] = mapped_column(Integer)


class SupportTicket(Base):
    """A request for a person, created by the handoff action."""

    __tablename__ = "support_tickets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    sender_id: Mapped[str] = mapped_column(String(200), index=True)
    order_id: Mapped[int | None] = mapped_column(Integer)
    intent: Mapped[str | None] = mapped_column(String(100))
    summary: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="open")
    created_at: Mapped[datetime] = mapped_column(DateTime)


class ShopPolicy(Base):
    """A shop-wide policy text (returns, refunds, ...)."""

    __tablename__ = "shop_policies"

    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)


class DeliveryOption(Base):
    """A way to ship an order, with its price and delivery period."""

    __tablename__ = "delivery_options"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    description: Mapped[str] = mapped_column(String(300))
    min_days: Mapped[int] = mapped_column(Integer)
    max_days: Mapped[int] = mapped_column(Integer)
    price: Mapped[float] = mapped_column(Money)
    free_over: Mapped[float | None] = mapped_column(Money)


class PaymentMethod(Base):
    """A payment method the shop accepts."""

    __tablename__ = "payment_methods"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    description: Mapped[str] = mapped_column(String(300))


class SearchTerm(Base):
    """A word of the catalog (titles, brands, categories, tags) for typo correction."""

    __tablename__ = "search_terms"

    term: Mapped[str] = mapped_column(String(80), primary_key=True)
    doc_count: Mapped[int] = mapped_column(Integer)
