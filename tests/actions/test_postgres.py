"""The store on the local PostgreSQL server (tsvector/GIN search), in a schema of its own."""

from __future__ import annotations

import pytest

from actions import store
from actions.models import Order
from actions.order_actions import ActionCancelOrder
from actions.product_actions import ActionProductSearch
from actions.search import resolve_product, search_products
from tests.actions.conftest import call, first_order, point_settings_at

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
    assert "is cancelled" in call(ActionCancelOrder(), f"cancel {order_id}").text
    assert "already cancelled" in call(ActionCancelOrder(), f"cancel {order_id}").text
    with store.session_factory(postgres_url)() as session:
        assert session.get(Order, order_id).status == "cancelled"  # type: ignore[union-attr]


def test_postgres_search_action_treats_sql_as_text(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    point_settings_at(monkeypatch, postgres_url)
    reply = call(ActionProductSearch(), "'); DROP TABLE products; -- & | ! :*")
    assert reply.text
    assert len(store.list_orders(postgres_url, limit=500)) == 208
