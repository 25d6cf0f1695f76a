"""`shopintent db init|seed|orders`: create, seed and inspect the shop store."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from pathlib import Path

from shopintent.cli.common import Subparsers, add_command, add_database_url, add_group, add_json

STATUSES = ("placed", "paid", "shipped", "delivered", "cancelled", "refunded")


def register(sub: Subparsers) -> None:
    """Create, seed and inspect the shop store (catalog and orders).

    The shop store: SQLite file by default, PostgreSQL via SHOPINTENT_DATABASE_URL.
    """
    commands = add_group(sub, "db", register.__doc__)
    init = add_command(commands, run_init)
    add_database_url(init)

    seed = add_command(commands, run_seed)
    add_database_url(seed)
    seed.add_argument("--catalog-dir", type=Path, help="folder with products.json and carts.json")
    seed.add_argument("--seed", type=int, help="random seed of the order history")
    seed.add_argument("--reset", action="store_true", help="replace existing shop data")

    orders = add_command(commands, run_orders)
    add_database_url(orders)
    orders.add_argument("--status", choices=STATUSES, help="only orders in this status")
    orders.add_argument("--limit", type=int, default=20, help="most rows to show (default 20)")
    add_json(orders, help="print JSON instead of a table")


def run_init(args: argparse.Namespace) -> int:
    """Create or upgrade the schema (Alembic migrations).

    Create or upgrade the store's schema to the latest migration.
    """
    from actions.store import get_engine, init_db

    init_db(args.database_url)
    print(f"schema is up to date: {get_engine(args.database_url).url.render_as_string()}")
    return 0


def run_seed(args: argparse.Namespace) -> int:
    """Load the catalog and a demo order history derived from carts.

    Load products.json and derive customers, orders (every status), shipments, refunds and invoices
    from carts.json. Deterministic for a given --seed.
    """
    from actions.store import init_db, seed_db

    init_db(args.database_url)
    summary = seed_db(
        args.database_url, catalog_dir=args.catalog_dir, seed=args.seed, reset=args.reset
    )
    statuses = ", ".join(f"{k} {v}" for k, v in sorted(summary.orders_by_status.items()))
    print(
        f"seeded {summary.products} products, {summary.customers} customers, "
        f"{summary.orders} orders ({statuses})"
    )
    return 0


def run_orders(args: argparse.Namespace) -> int:
    """List seeded orders (number, status, customer, total).

    List orders, newest first, so people and tests can find real order numbers.
    """
    from actions.store import list_orders

    rows = list_orders(args.database_url, status=args.status, limit=args.limit)
    if args.json:
        print(json.dumps([asdict(r) for r in rows], indent=2))
        return 0
    print(f"{'order':<14}  {'status':<10} {'placed':<10}  {'customer':<22} {'total':>10}")
    for r in rows:
        print(
            f"{r.id:<14}  {r.status:<10} {r.placed_at:<10}  {r.customer[:22]:<22} {r.total:>10,.2f}"
        )
    if not rows:
        print("(no orders; run `shopintent db seed`)")
    return 0
