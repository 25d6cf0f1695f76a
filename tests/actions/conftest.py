"""Fixtures of the action server tests: real seeded stores (SQLite files, PostgreSQL schema)."""

from __future__ import annotations

import asyncio
import os
import re
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.orm import Session

from actions import store
from actions.config import get_settings
from actions.models import Base, Order, OrderAudit, Refund, SupportTicket
from actions.orders import find_order

ANCHOR = datetime(2026, 6, 1, 12, 0, 0)

# Every custom action the domain names, each implemented in `actions/`.
DOMAIN_ACTIONS = [
    "action_order_status",
    "action_cancel_order",
    "action_change_shipping_address",
    "action_invoice",
    "action_refund_status",
    "action_return_policy",
    "action_delivery_options",
    "action_payment_methods",
    "action_product_info",
    "action_product_search",
    "action_recommend_products",
    "action_compare_products",
    "action_handoff",
    "action_confirm_change",
    "action_discard_change",
]

PG_BASE_URL = os.environ.get(
    "SHOPINTENT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def seed_store(url: str) -> str:
    """Create the schema and seed the demo shop at a fixed anchor date."""
    store.init_db(url)
    store.seed_db(url, anchor=ANCHOR)
    return url


def point_settings_at(
    monkeypatch: pytest.MonkeyPatch, url: str, *, auto_seed: bool = False
) -> None:
    """Make the actions use `url` (settings are cached, so clear the cache around it)."""
    monkeypatch.setenv("SHOPINTENT_DATABASE_URL", url)
    monkeypatch.setenv("SHOPINTENT_AUTO_SEED", "true" if auto_seed else "false")
    get_settings.cache_clear()


def limit_lookups(
    monkeypatch: pytest.MonkeyPatch,
    *,
    conversation: int | None = None,
    client: int | None = None,
) -> None:
    """Lower the failed-lookup limits per conversation and per client for one test."""
    if conversation is not None:
        monkeypatch.setenv("SHOPINTENT_MAX_LOOKUP_FAILURES", str(conversation))
    if client is not None:
        monkeypatch.setenv("SHOPINTENT_MAX_CLIENT_LOOKUP_FAILURES", str(client))
    get_settings.cache_clear()


@pytest.fixture(scope="package")
def seeded_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A seeded SQLite store shared by read-only tests."""
    path = tmp_path_factory.mktemp("store") / "shop.db"
    return seed_store(f"sqlite:///{path}")


@pytest.fixture
def fresh_url(tmp_path: Path) -> str:
    """A seeded SQLite store of its own, for tests that change orders."""
    return seed_store(f"sqlite:///{tmp_path / 'shop.db'}")


@pytest.fixture
def session(seeded_url: str) -> Iterator[Session]:
    """A session on the shared seeded store."""
    with store.session_factory(seeded_url)() as s:
        yield s


@pytest.fixture
def shop(seeded_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Point the actions at the shared seeded store for one test."""
    point_settings_at(monkeypatch, seeded_url)
    yield seeded_url
    get_settings.cache_clear()


@pytest.fixture
def fresh_shop(fresh_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Point the actions at a store of their own for one test."""
    point_settings_at(monkeypatch, fresh_url)
    yield fresh_url
    get_settings.cache_clear()


@contextmanager
def postgres_schema() -> Iterator[str]:
    """The URL of a fresh, empty schema of the local PostgreSQL `test` database (dropped after)."""
    engine = create_engine(PG_BASE_URL)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # any failure to connect means: no server here
        engine.dispose()
        pytest.skip(
            f"PostgreSQL at {PG_BASE_URL} is unreachable ({type(exc).__name__}); start it to run these tests"
        )
    schema = f"shopintent_test_{uuid.uuid4().hex[:10]}"
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = f"{PG_BASE_URL}?options=-csearch_path%3D{schema}"
    try:
        yield url
    finally:
        store.get_engine(url).dispose()
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        engine.dispose()


@pytest.fixture(scope="package")
def postgres_url() -> Iterator[str]:
    """A seeded store in a fresh schema of the local PostgreSQL `test` database."""
    with postgres_schema() as url:
        yield seed_store(url)


@pytest.fixture
def empty_postgres_url() -> Iterator[str]:
    """An empty schema of the local PostgreSQL `test` database, for migration tests."""
    with postgres_schema() as url:
        yield url


# The conversation (tracker `sender_id`) of a call unless a test names another.
SENDER = "shopper-1"
# A shopper's new address; not a city of the seed, so a reply shows it only as the new one.
NEW_ADDRESS = "42 Baker Street, Springfield, IL 62704"


def make_tracker(
    text: str,
    *,
    entities: Sequence[tuple[str, str]] = (),
    slots: dict[str, Any] | None = None,
    intent: str = "unknown",
    sender: str = SENDER,
) -> Tracker:
    """A tracker in the shape Rasa sends (see ARCHITECTURE.md, action server call)."""
    return Tracker.from_dict(
        {
            "sender_id": sender,
            "slots": slots or {},
            "latest_message": {
                "text": text,
                "intent": {"name": intent, "confidence": 0.97},
                "intent_ranking": [{"name": intent, "confidence": 0.97}],
                "entities": [
                    {"entity": name, "value": value, "extractor": "test"}
                    for name, value in entities
                ],
            },
            "latest_event_time": 1700000000.1,
            "followup_action": None,
            "paused": False,
            "events": [
                {"event": "user", "timestamp": 1700000000.1, "text": text, "parse_data": {}}
            ],
            "latest_input_channel": "rest",
            "active_loop": {},
            "latest_action": {"action_name": "action_listen"},
            "latest_action_name": "action_listen",
        }
    )


class Reply:
    """What one action call produced: the messages and the events."""

    def __init__(self, messages: list[dict[str, Any]], events: list[dict[str, Any]]) -> None:
        self.messages = messages
        self.events = events

    @property
    def text(self) -> str:
        return "\n".join(m.get("text") or "" for m in self.messages)

    @property
    def cards(self) -> list[dict[str, Any]]:
        return [p for m in self.messages for p in (m.get("custom") or {}).get("products", [])]

    @property
    def buttons(self) -> list[dict[str, Any]]:
        return [b for m in self.messages for b in m.get("buttons") or []]

    def slot(self, name: str) -> Any:
        values = [
            e["value"] for e in self.events if e.get("event") == "slot" and e.get("name") == name
        ]
        return values[-1] if values else None

    @property
    def followups(self) -> list[str]:
        """The actions the events ask Rasa to run next (`FollowupAction`)."""
        return [e["name"] for e in self.events if e.get("event") == "followup"]


def call(action: Action, text: str, **kwargs: Any) -> Reply:
    """Run an action the way the action server does and collect its output."""
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, make_tracker(text, **kwargs), {}))
    return Reply(dispatcher.messages, events or [])


def first_order(url: str, status: str) -> str:
    """The number (`SI...`, what a shopper types) of a seeded order in `status`."""
    rows = store.list_orders(url, status=status, limit=1)
    assert rows, f"the seed has no {status} order"
    return rows[0].id


def load_order(session: Session, number: str) -> Order:
    """The order with this number, with its details loaded (it must exist)."""
    order = find_order(session, number)
    assert order is not None, f"no order has the number {number!r}"
    return order


def order_key(url: str, number: str) -> int:
    """The internal id (`Order.id`, what other tables point at) of the order `number`."""
    with store.session_factory(url)() as session:
        return load_order(session, number).id


def owner(url: str, number: str) -> dict[str, str]:
    """The slots of the signed-in customer who placed order `number`."""
    with store.session_factory(url)() as session:
        return {"customer_id": str(load_order(session, number).customer_id)}


def guest(url: str, number: str) -> dict[str, str]:
    """The slots of a guest who typed the e-mail address of order `number`."""
    with store.session_factory(url)() as session:
        return {"order_email": load_order(session, number).customer.email}


def stranger(url: str, number: str) -> dict[str, str]:
    """The slots of a signed-in customer who did not place order `number`."""
    with store.session_factory(url)() as session:
        placed_by = load_order(session, number).customer_id
        other = session.scalar(
            select(Order.customer_id).where(Order.customer_id != placed_by).limit(1)
        )
    assert other is not None, "the seed has a single customer"
    return {"customer_id": str(other)}


def audit_rows(url: str, number: str) -> list[OrderAudit]:
    """The audit rows of order `number`, oldest first."""
    key = order_key(url, number)
    with store.session_factory(url)() as session:
        rows = session.scalars(
            select(OrderAudit).where(OrderAudit.order_id == key).order_by(OrderAudit.id)
        ).all()
        session.expunge_all()
    return list(rows)


def refund_amounts(url: str, number: str) -> list[float]:
    """The amounts of the refunds of order `number`, oldest first."""
    key = order_key(url, number)
    with store.session_factory(url)() as session:
        return list(
            session.scalars(select(Refund.amount).where(Refund.order_id == key).order_by(Refund.id))
        )


def ticket_of(url: str, reply: Reply) -> SupportTicket:
    """The support ticket whose reference (`SUP-...`) the handoff reply gave."""
    reference = re.search(r"SUP-[0-9A-F]{6}", reply.text)
    assert reference, f"no ticket reference in {reply.text!r}"
    with store.session_factory(url)() as session:
        ticket = session.scalars(
            select(SupportTicket).where(SupportTicket.reference == reference.group(0))
        ).one()
        session.expunge(ticket)
    return ticket


def order_snapshot(url: str) -> list[tuple[Any, ...]]:
    """What an action could change on each order, by internal id (equal for equal seeds).

    Order numbers are drawn per install, so two stores of the same seed are compared
    on this instead of on `list_orders`.
    """
    query = select(
        Order.id,
        Order.status,
        Order.shipping_address,
        Order.cancelled_at,
        Order.total,
        func.count(Refund.id),
    ).outerjoin(Refund, Refund.order_id == Order.id)
    with store.session_factory(url)() as session:
        return [tuple(row) for row in session.execute(query.group_by(Order.id).order_by(Order.id))]


# Rows in the schema of revision 0001 (orders without numbers), to test upgrades on.
LEGACY_ORDER_IDS = (123456, 654321)


def insert_legacy_orders(url: str) -> None:
    """Fill a store at revision 0001 with a customer, a product, two orders and their lines."""
    with store.get_engine(url).begin() as conn:
        conn.execute(
            text(
                "INSERT INTO customers (id, name, email, address) "
                "VALUES (7, 'Ava Lee', 'ava@example.com', '12 Oak St, Portland, OR 97201')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO products (id, sku, title, description, category, price, "
                "discount_percentage, rating, stock, availability, tags, warranty, "
                "shipping_info, return_policy, minimum_order_quantity) VALUES (1, 'SKU-1', "
                "'Lamp', '', 'home', 10, 0, 4, 3, 'In Stock', '[]', '', '', '', 1)"
            )
        )
        for order_id in LEGACY_ORDER_IDS:
            conn.execute(
                text(
                    "INSERT INTO orders (id, customer_id, status, placed_at, shipping_address, "
                    "shipping_method, payment_method, subtotal, discount, shipping_cost, total, "
                    "currency) VALUES (:id, 7, 'paid', '2026-05-01 10:00:00', "
                    "'12 Oak St, Portland, OR 97201', 'Standard', 'Card', 10, 0, 0, 10, 'USD')"
                ),
                {"id": order_id},
            )
            conn.execute(
                text(
                    "INSERT INTO order_lines (order_id, product_id, quantity, unit_price, "
                    "discount_percentage, line_total) VALUES (:id, 1, 1, 10, 0, 10)"
                ),
                {"id": order_id},
            )


# Search objects the migrations create by hand (FTS5 tables, the tsvector column).
_UNMODELLED = ("products_fts", "search_vector", "ix_products_search_vector")


def _modelled(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    return not (reflected and name is not None and name.startswith(_UNMODELLED))


def assert_models_match_migrations(url: str) -> None:
    """Fail when the migrated schema at `url` differs from `actions.models`."""
    with store.get_engine(url).connect() as conn:
        context = MigrationContext.configure(
            conn,
            opts={
                "compare_type": True,
                "include_object": _modelled,
                "version_table": "actions_alembic_version",
            },
        )
        diff = compare_metadata(context, Base.metadata)
    assert diff == [], f"the migrations and actions/models.py disagree: {diff}"
