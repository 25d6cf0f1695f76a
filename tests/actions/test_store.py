"""The SQL store: migrations, deterministic seed, order listing, and safe imports."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from actions import store
from actions.errors import (
    CatalogSourceError,
    InvalidOptionError,
    StoreNotReadyError,
    StoreUnavailableError,
)
from actions.models import Invoice, OrderStatus
from actions.orders import normalise_order_number
from tests.actions.conftest import ANCHOR, load_order, order_snapshot

REPO = Path(__file__).resolve().parents[2]


def test_seed_derives_orders_in_every_status(seeded_url: str) -> None:
    for status in OrderStatus:
        assert store.list_orders(seeded_url, status=status.value, limit=1), status


def test_seed_loads_the_whole_catalog(session: Session) -> None:
    counts = {
        table: session.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
        for table in ("products", "orders", "customers", "product_reviews", "carts", "invoices")
    }
    assert counts["products"] == 194
    assert counts["orders"] == 208
    assert counts["product_reviews"] > 500
    assert counts["invoices"] > 100


def test_seed_is_deterministic_for_the_same_seed(tmp_path: Path) -> None:
    first = f"sqlite:///{tmp_path / 'a.db'}"
    second = f"sqlite:///{tmp_path / 'b.db'}"
    for url in (first, second):
        store.init_db(url)
        store.seed_db(url, anchor=ANCHOR)
    assert order_snapshot(first) == order_snapshot(second)
    a = store.list_orders(first, limit=500)
    b = store.list_orders(second, limit=500)
    assert [replace(r, id="") for r in a] == [replace(r, id="") for r in b]
    # The numbers shoppers see come from `secrets`: each install has its own.
    assert all(normalise_order_number(r.id) == r.id for r in a + b)
    assert len({r.id for r in a}) == len(a)
    assert not {r.id for r in a} & {r.id for r in b}


def test_invoice_numbers_are_random_not_the_internal_id(session: Session) -> None:
    rows = session.execute(select(Invoice.number, Invoice.order_id, Invoice.issued_at)).all()
    assert rows
    assert len({number for number, _, _ in rows}) == len(rows)
    for number, _, issued_at in rows:
        assert re.fullmatch(rf"INV-{issued_at.year}-\d{{6}}", number), number
    assert sum(number.endswith(str(order_id)) for number, order_id, _ in rows) <= 1


def test_list_orders_gives_number_owner_and_email(seeded_url: str, session: Session) -> None:
    rows = store.list_orders(seeded_url, limit=500)
    assert len(rows) == 208
    for row in rows[:20]:
        order = load_order(session, row.id)
        assert row.customer_id == str(order.customer_id)
        assert row.email == order.customer.email
        assert row.total == order.total
    assert [r.placed_at for r in rows] == sorted((r.placed_at for r in rows), reverse=True)


def test_init_db_is_idempotent_and_sqlite_runs_in_wal_mode(seeded_url: str) -> None:
    store.init_db(seeded_url)
    with store.get_engine(seeded_url).connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert (
            conn.execute(text("SELECT version_num FROM actions_alembic_version")).scalar() == "0002"
        )


def test_seeding_a_seeded_store_without_reset_is_refused(seeded_url: str) -> None:
    with pytest.raises(StoreNotReadyError, match="--reset"):
        store.seed_db(seeded_url)


def test_seed_with_reset_replaces_the_data(fresh_url: str) -> None:
    summary = store.seed_db(fresh_url, anchor=ANCHOR, reset=True)
    assert summary.products == 194
    assert len(store.list_orders(fresh_url, limit=500)) == 208


def test_ensure_seeded_creates_then_leaves_the_store(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'auto.db'}"
    assert store.ensure_seeded(url) is True
    assert store.ensure_seeded(url) is False
    assert store.is_seeded(url)


def test_seed_without_schema_says_to_run_init(tmp_path: Path) -> None:
    with pytest.raises(StoreNotReadyError, match="shopintent db init"):
        store.seed_db(f"sqlite:///{tmp_path / 'empty.db'}")


def test_missing_catalog_folder_is_a_clear_error(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    store.init_db(url)
    with pytest.raises(CatalogSourceError, match="SHOPINTENT_CATALOG_DIR"):
        store.seed_db(url, catalog_dir=tmp_path / "nowhere")


def test_sqlite_file_in_a_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StoreUnavailableError, match="does not exist"):
        store.get_engine(f"sqlite:///{tmp_path / 'no' / 'such' / 'x.db'}")


@pytest.mark.parametrize(
    ("status", "limit", "message"),
    [("lost", 5, "expected --status to be one of"), (None, 0, "at least 1")],
)
def test_list_orders_rejects_bad_options(
    seeded_url: str, status: str | None, limit: int, message: str
) -> None:
    with pytest.raises(InvalidOptionError, match=message):
        store.list_orders(seeded_url, status=status, limit=limit)


def test_list_orders_filters_by_status_and_limits(seeded_url: str) -> None:
    rows = store.list_orders(seeded_url, status="shipped", limit=3)
    assert len(rows) == 3
    assert {r.status for r in rows} == {"shipped"}


def test_importing_every_actions_module_needs_no_environment(tmp_path: Path) -> None:
    # rasa-sdk imports every submodule to find actions: that must not touch a database.
    code = (
        "import importlib, pkgutil, actions\n"
        "for m in pkgutil.walk_packages(actions.__path__, 'actions.'):\n"
        "    importlib.import_module(m.name)\n"
        "print('ok')\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHOPINTENT_")}
    env["PYTHONPATH"] = str(REPO)
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
    assert list(tmp_path.iterdir()) == []
