"""Alembic migrations on SQLite: the models match them, and 0002 upgrades stores with data."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from actions import store
from actions.orders import normalise_order_number
from tests.actions.conftest import (
    LEGACY_ORDER_IDS,
    assert_models_match_migrations,
    insert_legacy_orders,
)


def test_a_seeded_store_matches_the_models(seeded_url: str) -> None:
    assert_models_match_migrations(seeded_url)


@pytest.fixture
def upgraded_legacy_store(tmp_path: Path) -> str:
    """A store created at revision 0001 with orders in it, then upgraded to the head."""
    url = f"sqlite:///{tmp_path / 'old.db'}"
    store.init_db(url, revision="0001")
    insert_legacy_orders(url)

    store.init_db(url)
    return url


def test_upgrade_to_0002_gives_existing_orders_unique_numbers(upgraded_legacy_store: str) -> None:
    url = upgraded_legacy_store
    with store.get_engine(url).connect() as conn:
        numbers = dict(conn.execute(text("SELECT id, number FROM orders")).all())
        version = conn.execute(text("SELECT version_num FROM actions_alembic_version")).scalar()
    assert sorted(numbers) == sorted(LEGACY_ORDER_IDS)
    assert all(normalise_order_number(n) == n for n in numbers.values())
    assert len(set(numbers.values())) == len(numbers)
    assert version == "0002"
    assert_models_match_migrations(url)


def test_upgrade_rebuilding_orders_keeps_their_lines_and_foreign_keys_on(
    upgraded_legacy_store: str,
) -> None:
    # SQLite rebuilds `orders` to make `number` NOT NULL; with foreign keys on, the
    # old table's drop would cascade-delete every order line.
    with store.get_engine(upgraded_legacy_store).connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM order_lines")).scalar() == 2
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA foreign_key_check")).all() == []


def test_upgrade_then_downgrade_to_0001_drops_the_new_tables(tmp_path: Path) -> None:
    from alembic import command
    from alembic.config import Config

    url = f"sqlite:///{tmp_path / 'down.db'}"
    store.init_db(url)
    config = Config(str(store.MIGRATIONS_DIR / "alembic.ini"))
    config.set_main_option("script_location", str(store.MIGRATIONS_DIR))
    with store.get_engine(url).begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0001")
    with store.get_engine(url).connect() as conn:
        tables = set(
            conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'table'")).scalars()
        )
        columns = {row[1] for row in conn.execute(text("PRAGMA table_info(orders)"))}
    assert not tables & {"order_audit", "order_lookup_failures", "pending_changes"}
    assert "number" not in columns
