"""The shop's SQL store: engines, migrations, seeding, and order listing.

The bot or a launcher prepares the store with one call:

>>> from actions.store import ensure_seeded
>>> ensure_seeded("sqlite:///shopintent.db")  # doctest: +SKIP

Engines are cached per URL. SQLite runs in WAL mode with foreign keys on, so the
action server and the bot can share one file.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

from sqlalchemy import (
    Connection,
    Engine,
    delete,
    func,
    insert,
    inspect,
    select,
    text,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from actions.config import get_settings
from actions.errors import InvalidOptionError, StoreNotReadyError, StoreUnavailableError
from actions.models import (
    Cart,
    CartLine,
    Customer,
    DeliveryOption,
    Invoice,
    Order,
    OrderAudit,
    OrderLine,
    OrderLookupFailure,
    OrderStatus,
    PaymentMethod,
    PendingChange,
    Product,
    ProductReview,
    Refund,
    SearchTerm,
    Shipment,
    ShopPolicy,
    SupportTicket,
    TrackingEvent,
)
from actions.seed import (
    ProductRow,
    catalog_terms,
    derive_history,
    load_carts,
    load_products,
    load_reviews,
    load_shop_data,
)
from core.db import database_url, make_engine

logger = logging.getLogger(__name__)
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
_ready_lock = threading.Lock()
_ready_urls: set[str] = set()


@dataclass(frozen=True)
class SeedSummary:
    """What `seed_db` wrote."""

    products: int
    customers: int
    orders: int
    orders_by_status: dict[str, int]


@dataclass(frozen=True)
class OrderSummary:
    """One row of `shopintent db orders`."""

    id: str  # the order number shoppers see and type (`Order.number`), not the internal key
    status: str  # an `OrderStatus` value
    customer_id: str  # the owner's id as text, as in a JWT `sub`
    email: str  # the owner's e-mail address
    customer: str  # the owner's name
    total: float  # in the order's currency
    placed_at: str  # YYYY-MM-DD


def resolve_url(url: str | None = None) -> str:
    """Return `url`, or the configured `SHOPINTENT_DATABASE_URL` (SQLite file by default)."""
    return url or get_settings().resolved_database_url


@lru_cache(maxsize=16)
def get_engine(url: str | None = None) -> Engine:
    """Return the cached engine of `url` (default: the configured URL).

    Raises:
        StoreUnavailableError: The URL is malformed, or an SQLite file's folder is missing.
    """
    url = database_url(resolve_url(url))
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise StoreUnavailableError(
            f"expected an SQLAlchemy URL like sqlite:///shopintent.db or "
            f"postgresql+psycopg://user@host/db, but found {url!r}. Fix SHOPINTENT_DATABASE_URL."
        ) from exc
    if parsed.get_backend_name() == "sqlite":
        path = parsed.database or ""
        if path and path != ":memory:" and not Path(path).parent.is_dir():
            raise StoreUnavailableError(
                f"the SQLite database {path} cannot be created: its folder "
                f"{Path(path).parent} does not exist. Create the folder or point "
                "SHOPINTENT_DATABASE_URL elsewhere."
            )
    return make_engine(url, sqlite_busy_timeout_s=get_settings().sqlite_busy_timeout_ms / 1000)


def session_factory(url: str | None = None) -> sessionmaker[Session]:
    """Return a session factory bound to the engine of `url`."""
    return sessionmaker(get_engine(url), expire_on_commit=False)


@contextmanager
def session_scope(url: str | None = None) -> Iterator[Session]:
    """Open a session that commits on success and rolls back on error."""
    with session_factory(url)() as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def init_db(url: str | None = None, *, revision: str = "head") -> None:
    """Create or upgrade the schema to the latest Alembic revision.

    Args:
        url: Database URL; default the configured one.
        revision: Upgrade only this far (tests of a migration start from an older one).

    Raises:
        StoreUnavailableError: The database cannot be reached.
    """
    from alembic import command
    from alembic.config import Config

    config = Config(str(MIGRATIONS_DIR / "alembic.ini"))
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    engine = get_engine(url)
    try:
        with engine.connect() as conn:
            sqlite = conn.dialect.name == "sqlite"
            if sqlite:
                # Batch migrations rebuild SQLite tables; with foreign keys on, dropping
                # the old table would cascade-delete its children. The pragma only works
                # outside a transaction, so it is set before BEGIN and checked before COMMIT.
                conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
                conn.commit()
            try:
                with conn.begin():
                    if conn.dialect.name == "postgresql":
                        # Replicas starting together: one migrates, the others wait here.
                        conn.execute(text("SELECT pg_advisory_xact_lock(715517)"))
                    config.attributes["connection"] = conn
                    command.upgrade(config, revision)
                    if sqlite:
                        _check_foreign_keys(conn)
            finally:
                if sqlite:
                    conn.exec_driver_sql("PRAGMA foreign_keys=ON")
                    conn.commit()
    except OperationalError as exc:
        raise StoreUnavailableError(_unreachable(engine, exc)) from exc


def _check_foreign_keys(conn: Connection) -> None:
    broken = conn.exec_driver_sql("PRAGMA foreign_key_check").all()
    if broken:
        tables = sorted({str(row[0]) for row in broken})
        raise StoreNotReadyError(
            f"expected every foreign key to hold after the schema upgrade, but rows of "
            f"{', '.join(tables)} point at missing rows; the upgrade was rolled back. "
            "Run `PRAGMA foreign_key_check` on the database and fix or delete those rows."
        )


def _unreachable(engine: Engine, exc: Exception) -> str:
    safe = engine.url.render_as_string(hide_password=True)
    return (
        f"cannot open the database {safe}: {getattr(exc, 'orig', exc)}. Check that the "
        "server runs and SHOPINTENT_DATABASE_URL is right."
    )


def is_initialised(url: str | None = None) -> bool:
    """Whether the store's tables exist."""
    engine = get_engine(url)
    try:
        return inspect(engine).has_table("products")
    except OperationalError as exc:
        raise StoreUnavailableError(_unreachable(engine, exc)) from exc


def is_seeded(url: str | None = None) -> bool:
    """Whether the store's tables exist and hold a catalog."""
    if not is_initialised(url):
        return False
    with session_factory(url)() as session:
        return session.scalar(select(func.count()).select_from(Product)) != 0


def seed_db(
    url: str | None = None,
    *,
    catalog_dir: Path | None = None,
    seed: int | None = None,
    anchor: datetime | None = None,
    reset: bool = False,
) -> SeedSummary:
    """Load the catalog and the derived demo order history.

    Args:
        url: Database URL; default the configured one. The schema must exist.
        catalog_dir: Folder with `products.json` and `carts.json`; default the setting.
        seed: Random seed of the history; default the setting.
        anchor: "Now" of the history; default the current UTC time.
        reset: Delete existing shop data first; without it, a seeded store is an error.

    Returns:
        Counts of what was written.

    Raises:
        StoreNotReadyError: The schema is missing, or the store is seeded and `reset` is off.
        CatalogSourceError: The seed files are missing or malformed.
    """
    settings = get_settings()
    if not is_initialised(url):
        raise StoreNotReadyError(
            "the store has no tables yet; run `shopintent db init` first "
            "(or call actions.store.ensure_seeded)."
        )
    catalog = catalog_dir or settings.catalog_dir
    products = load_products(catalog)
    reviews = load_reviews(catalog)
    carts = load_carts(catalog)
    shop = load_shop_data()
    now = (anchor or datetime.now(UTC)).replace(tzinfo=None, microsecond=0)
    history = derive_history(
        carts, products, shop, seed=settings.seed if seed is None else seed, anchor=now
    )
    with session_scope(url) as session:
        if reset:
            clear_shop_data(session)
        elif session.scalar(select(func.count()).select_from(Product)):
            raise StoreNotReadyError(
                "the store already holds a catalog; pass --reset to replace it."
            )
        insert_products(session, products)
        if reviews:
            session.execute(insert(ProductReview), reviews)
        session.execute(insert(ShopPolicy), shop["policies"])
        session.execute(insert(DeliveryOption), shop["delivery_options"])
        session.execute(insert(PaymentMethod), shop["payment_methods"])
        for model, rows in (
            (Customer, history.customers),
            (Cart, history.carts),
            (CartLine, history.cart_lines),
            (Order, history.orders),
            (OrderLine, history.order_lines),
            (Shipment, history.shipments),
            (TrackingEvent, history.tracking_events),
            (Refund, history.refunds),
            (Invoice, history.invoices),
        ):
            if rows:
                session.execute(insert(model), rows)
        refresh_search_terms(session)
    by_status: dict[str, int] = {}
    for order in history.orders:
        by_status[order["status"]] = by_status.get(order["status"], 0) + 1
    return SeedSummary(
        products=len(products),
        customers=len(history.customers),
        orders=len(history.orders),
        orders_by_status=by_status,
    )


def insert_products(session: Session, rows: list[ProductRow], *, batch: int = 5000) -> None:
    """Bulk-insert catalog rows (the full-text index follows via triggers / generated column).

    Call `refresh_search_terms` afterwards so typo correction knows the new words.
    """
    for start in range(0, len(rows), batch):
        session.execute(insert(Product), [dict(r) for r in rows[start : start + batch]])


def refresh_search_terms(session: Session) -> int:
    """Rebuild the catalog vocabulary used for typo correction; returns the word count."""
    counts: dict[str, int] = {}
    query = select(Product.title, Product.brand, Product.category, Product.tags)
    for title, brand, category, tags in session.execute(query.execution_options(yield_per=5000)):
        products_terms = catalog_terms(
            [
                {  # type: ignore[typeddict-item]
                    "title": title,
                    "brand": brand,
                    "category": category,
                    "tags": list(tags or []),
                }
            ]
        )
        for term in products_terms:
            counts[term] = counts.get(term, 0) + 1
    session.execute(delete(SearchTerm))
    rows = [{"term": t[:80], "doc_count": n} for t, n in counts.items()]
    for start in range(0, len(rows), 5000):
        session.execute(insert(SearchTerm), rows[start : start + 5000])
    return len(rows)


def clear_shop_data(session: Session) -> None:
    """Delete every row the seed writes (children first), keeping the schema."""
    for model in (
        PendingChange,
        OrderAudit,
        OrderLookupFailure,
        TrackingEvent,
        Shipment,
        Refund,
        Invoice,
        OrderLine,
        Order,
        CartLine,
        Cart,
        SupportTicket,
        Customer,
        ProductReview,
        Product,
        ShopPolicy,
        DeliveryOption,
        PaymentMethod,
        SearchTerm,
    ):
        session.execute(delete(model))


def ensure_seeded(url: str | None = None) -> bool:
    """Create the schema and seed the demo shop if the store is empty.

    Safe to call on every start; the bot or launcher calls it before serving.

    Args:
        url: Database URL; default the configured one.

    Returns:
        True when this call seeded the store, False when it already held data.

    Raises:
        StoreUnavailableError: The database cannot be reached.
        CatalogSourceError: The seed files are missing or malformed.
    """
    url = resolve_url(url)
    init_db(url)
    if is_seeded(url):
        return False
    try:
        seed_db(url)
    except (IntegrityError, StoreNotReadyError):
        # Another process seeded between our check and our insert.
        if is_seeded(url):
            return False
        raise
    logger.info("seeded the shop store at %s", get_engine(url).url.render_as_string())
    return True


def ready_session_factory(url: str | None = None) -> sessionmaker[Session]:
    """Return a session factory for a store that is known to be ready.

    The first call per URL checks the store; with `SHOPINTENT_AUTO_SEED` on (the
    default) it creates and seeds an empty store, otherwise it raises.

    Raises:
        StoreNotReadyError: The store is empty and auto-seeding is off.
        StoreUnavailableError: The database cannot be reached.
    """
    url = resolve_url(url)
    if url not in _ready_urls:
        with _ready_lock:
            if url not in _ready_urls:
                if get_settings().auto_seed:
                    ensure_seeded(url)
                elif not is_seeded(url):
                    raise StoreNotReadyError(
                        f"the shop store at {get_engine(url).url.render_as_string()} is empty. "
                        "Run `shopintent db init && shopintent db seed`, or set "
                        "SHOPINTENT_AUTO_SEED=true."
                    )
                _ready_urls.add(url)
    return session_factory(url)


def list_orders(
    url: str | None = None, *, status: str | None = None, limit: int = 20
) -> list[OrderSummary]:
    """List seeded orders, newest first, with the number and owner a shopper would give.

    Args:
        url: Database URL; default the configured one.
        status: Keep only orders in this status (placed, paid, shipped, delivered,
            cancelled, refunded).
        limit: Most rows to return.

    Raises:
        InvalidOptionError: Unknown status or a limit below 1.
        StoreNotReadyError: The store has no tables.
    """
    valid = [s.value for s in OrderStatus]
    if status is not None and status not in valid:
        raise InvalidOptionError(
            f"expected --status to be one of {', '.join(valid)}, but found {status!r}."
        )
    if limit < 1:
        raise InvalidOptionError(
            f"expected the limit to be at least 1, but found {limit}.", options=("limit",)
        )
    if not is_initialised(url):
        raise StoreNotReadyError(
            "the store has no tables yet; run `shopintent db init && shopintent db seed`."
        )
    query = (
        select(
            Order.number,
            Order.status,
            Order.customer_id,
            Customer.email,
            Customer.name,
            Order.total,
            Order.placed_at,
        )
        .join(Customer, Customer.id == Order.customer_id)
        .order_by(Order.placed_at.desc(), Order.id)
        .limit(limit)
    )
    if status is not None:
        query = query.where(Order.status == status)
    try:
        with session_factory(url)() as session:
            return [
                OrderSummary(
                    id=number,
                    status=st,
                    customer_id=str(customer_id),
                    email=email,
                    customer=name,
                    total=float(total),
                    placed_at=placed.strftime("%Y-%m-%d"),
                )
                for number, st, customer_id, email, name, total, placed in session.execute(query)
            ]
    except SQLAlchemyError as exc:
        raise StoreUnavailableError(f"cannot list orders: {exc}") from exc
