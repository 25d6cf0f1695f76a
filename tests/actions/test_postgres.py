"""The store on the local PostgreSQL server (tsvector/GIN search), in a schema of its own."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from actions import store
from actions.order_actions import ActionCancelOrder, ActionConfirmChange
from actions.orders import normalise_order_number
from actions.product_actions import ActionProductSearch
from actions.search import resolve_product, search_products
from tests.actions.conftest import (
    LEGACY_ORDER_IDS,
    assert_models_match_migrations,
    audit_rows,
    call,
    first_order,
    insert_legacy_orders,
    load_order,
    owner,
    point_settings_at,
    refund_amounts,
)

pytestmark = pytest.mark.postgres


def test_postgres_store_has_orders_in_every_status(postgres_url: str) -> None:
    statuses = {r.status for r in store.list_orders(postgres_url, limit=500)}
    assert statuses == {"placed", "paid", "shipped", "delivered", "cancelled", "refunded"}


def test_postgres_search_uses_the_same_filters(postgres_url: str) -> None:
    with store.session_factory(postgres_url)() as session:
        hits = search_products(session, "wireless earphones under 100").hits
        assert [h.title for h in hits] == ["Beats Flex Wireless Earphones"]
        assert resolve_product(session, "mascra").product.title == "Essence Mascara Lash Princess"  # type: ignore[union-attr]


def test_postgres_cancel_changes_the_order_once(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    point_settings_at(monkeypatch, postgres_url)
    order_id = first_order(postgres_url, "paid")
    slots = owner(postgres_url, order_id)
    token = call(ActionCancelOrder(), f"cancel {order_id}", slots=slots).slot("pending_change")
    assert token
    yes = {**slots, "pending_change": token}
    assert "is cancelled" in call(ActionConfirmChange(), "yes", slots=yes).text
    assert "already handled" in call(ActionConfirmChange(), "yes", slots=yes).text
    assert "already cancelled" in call(ActionCancelOrder(), f"cancel {order_id}", slots=slots).text
    with store.session_factory(postgres_url)() as session:
        assert load_order(session, order_id).status == "cancelled"
    assert len(refund_amounts(postgres_url, order_id)) == 1
    assert [(a.action, a.actor) for a in audit_rows(postgres_url, order_id)] == [
        ("cancel", f"customer:{slots['customer_id']}")
    ]


def test_postgres_search_action_treats_sql_as_text(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    point_settings_at(monkeypatch, postgres_url)
    reply = call(ActionProductSearch(), "'); DROP TABLE products; -- & | ! :*")
    assert reply.text
    assert len(store.list_orders(postgres_url, limit=500)) == 208


def test_postgres_upgrade_numbers_existing_orders_and_keeps_their_lines(
    empty_postgres_url: str,
) -> None:
    store.init_db(empty_postgres_url, revision="0001")
    insert_legacy_orders(empty_postgres_url)
    store.init_db(empty_postgres_url)
    with store.get_engine(empty_postgres_url).connect() as conn:
        numbers: dict[int, str] = dict(conn.execute(text("SELECT id, number FROM orders")).all())
        assert conn.execute(text("SELECT count(*) FROM order_lines")).scalar() == 2
        version = conn.execute(text("SELECT version_num FROM actions_alembic_version")).scalar()
    assert sorted(numbers) == sorted(LEGACY_ORDER_IDS)
    assert all(normalise_order_number(n) == n for n in numbers.values())
    assert len(set(numbers.values())) == len(numbers)
    assert version == "0002"
    assert_models_match_migrations(empty_postgres_url)


def test_postgres_store_matches_the_models(postgres_url: str) -> None:
    assert_models_match_migrations(postgres_url)
