"""Subcommands owned by the `actions` package: `db init|seed|orders` and `actions`."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

STATUSES = ("placed", "paid", "shipped", "delivered", "cancelled", "refunded")


def register(sub: Any) -> None:
    """Add this package's subcommands to the `shopintent` parser's subparsers."""
    db = sub.add_parser(
        "db",
        help="create, seed and inspect the shop store (catalog and orders)",
        description="The shop store: SQLite file by default, PostgreSQL via SHOPINTENT_DATABASE_URL.",
    )
    db.set_defaults(group_parser=db)
    db_sub = db.add_subparsers(dest="db_command", metavar="COMMAND")

    init = db_sub.add_parser(
        "init",
        help="create or upgrade the schema (Alembic migrations)",
        description="Create or upgrade the store's schema to the latest migration.",
    )
    _url_option(init)
    init.set_defaults(func=run_init)

    seed = db_sub.add_parser(
        "seed",
        help="load the catalog and a demo order history derived from carts",
        description=(
            "Load products.json and derive customers, orders (every status), shipments, "
            "refunds and invoices from carts.json. Deterministic for a given --seed."
        ),
    )
    _url_option(seed)
    seed.add_argument("--catalog-dir", type=Path, help="folder with products.json and carts.json")
    seed.add_argument("--seed", type=int, help="random seed of the order history")
    seed.add_argument("--reset", action="store_true", help="replace existing shop data")
    seed.set_defaults(func=run_seed)

    orders = db_sub.add_parser(
        "orders",
        help="list seeded orders (number, status, customer, total)",
        description="List orders, newest first, so people and tests can find real order numbers.",
    )
    _url_option(orders)
    orders.add_argument("--status", choices=STATUSES, help="only orders in this status")
    orders.add_argument("--limit", type=int, default=20, help="most rows to show (default 20)")
    orders.add_argument("--json", action="store_true", help="print JSON instead of a table")
    orders.set_defaults(func=run_orders)

    server = sub.add_parser(
        "actions",
        help="run the rasa-sdk action server",
        description=(
            "Run the action server on 127.0.0.1 (the actions of `python -m rasa_sdk --actions "
            "actions`); with SHOPINTENT_ACTIONS_SECRET set it refuses calls without a valid "
            "X-Shopintent-Signature. Creates and seeds an empty store first unless "
            "SHOPINTENT_AUTO_SEED=false."
        ),
    )
    server.add_argument("--port", type=int, default=5055, help="TCP port (default 5055)")
    server.add_argument(
        "--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1: this machine)"
    )
    server.set_defaults(func=run_server)


def _url_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--database-url",
        help="SQLAlchemy URL (default: SHOPINTENT_DATABASE_URL, else ./shopintent.db)",
    )


def run_init(args: argparse.Namespace) -> int:
    """`shopintent db init`."""
    from actions.store import get_engine, init_db

    init_db(args.database_url)
    print(f"schema is up to date: {get_engine(args.database_url).url.render_as_string()}")
    return 0


def run_seed(args: argparse.Namespace) -> int:
    """`shopintent db seed`."""
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
    """`shopintent db orders`."""
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


def run_server(args: argparse.Namespace) -> int:
    """`shopintent actions`."""
    from actions.server import serve

    serve(args.port, host=args.host)
    return 0
