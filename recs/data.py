"""Interactions: who touched which item, in time order, from a file or the shop's database.

Two sources give the same `Interactions` (shopper key -> item tokens, oldest first):

- a text file of `user item` lines in time order (whitespace separated, any tokens);
- the shop's database by SQLAlchemy URL: every order line is a purchase by
  `customer:<customer_id>` at the order's `placed_at`, and the behaviour events in
  `bot_events` (when the table exists) count with their `shopper` key, when they
  name a product and were recorded with consent. Tables are read by name through
  reflection, so this package needs no other package's models.

Consecutive repeats of one item are collapsed into one step (a view, an add-to-cart
and the purchase of one product are one interest), in both sources and at inference.
`encode` maps the tokens to indices 1..N (0 is padding) and `leave_last_out` makes the
standard evaluation split.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from recs.errors import DataError, TooLittleDataError

ORDERS_TABLE = "orders"
ORDER_LINES_TABLE = "order_lines"
EVENTS_TABLE = "bot_events"
OPTOUTS_TABLE = "bot_tracking_optouts"
CUSTOMER_PREFIX = "customer:"
_MAX_BAD_LINES_SHOWN = 3


@dataclass(frozen=True)
class Interactions:
    """Every shopper's items, oldest first.

    Attributes:
        sequences: shopper key -> item tokens in time order (no consecutive repeats).
        source: where they came from (a path, or the URL without its password).
    """

    sequences: dict[str, list[str]]
    source: str = ""

    @property
    def n_shoppers(self) -> int:
        """Number of shoppers."""
        return len(self.sequences)

    @property
    def n_interactions(self) -> int:
        """Number of (shopper, item) steps."""
        return sum(len(s) for s in self.sequences.values())

    def items(self) -> list[str]:
        """Every distinct item token, in order of first appearance."""
        return list(dict.fromkeys(i for seq in self.sequences.values() for i in seq))

    def data_hash(self) -> str:
        """SHA-256 over the sequences, independent of the shoppers' order."""
        digest = hashlib.sha256()
        for shopper in sorted(self.sequences):
            digest.update(f"{shopper}\t{' '.join(self.sequences[shopper])}\n".encode())
        return digest.hexdigest()


@dataclass(frozen=True)
class ItemIndex:
    """Item tokens <-> indices 1..N; index 0 is padding."""

    tokens: list[str]
    index: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.index:
            self.index.update({t: i + 1 for i, t in enumerate(self.tokens)})

    @property
    def n_items(self) -> int:
        """Number of items (indices 1..n_items)."""
        return len(self.tokens)

    def token(self, idx: int) -> str:
        """The token of index `idx` (1-based)."""
        return self.tokens[idx - 1]

    @classmethod
    def from_mapping(cls, mapping: dict[str, int]) -> ItemIndex:
        """Rebuild from a token -> index mapping whose indices are exactly 1..N.

        Raises:
            ValueError: the indices are not 1..N.
        """
        tokens = sorted(mapping, key=mapping.__getitem__)
        if [mapping[t] for t in tokens] != list(range(1, len(tokens) + 1)):
            raise ValueError("expected item indices 1..N without gaps")
        return cls(tokens=tokens, index=dict(mapping))


@dataclass(frozen=True)
class EvalCase:
    """One shopper's held-out item.

    Attributes:
        history: the item indices before the target, oldest first.
        target: the held-out item index.
        seen: every item the shopper interacted with (sampled negatives avoid them).
    """

    history: list[int]
    target: int
    seen: frozenset[int]


@dataclass(frozen=True)
class Split:
    """The leave-last-out split (Kang & McAuley 2018).

    Attributes:
        train: every shopper's training part (all items for shoppers with < 3).
        validation: the second-to-last item of each shopper with >= 3 items,
            after the training part.
        test: the last item of each shopper with >= 3 items, after the training
            part and the validation item.
    """

    train: list[list[int]]
    validation: list[EvalCase]
    test: list[EvalCase]


def collapse_repeats(items: Iterable[str]) -> list[str]:
    """Drop consecutive repeats: `a a b a` -> `a b a`."""
    out: list[str] = []
    for item in items:
        if not out or out[-1] != item:
            out.append(item)
    return out


def read_file(path: str | Path) -> Interactions:
    """Read `user item` lines (time order, whitespace separated) from a text file.

    Blank lines are skipped. User and item ids are arbitrary tokens.

    Raises:
        DataError: the file is missing, not text, or has lines without exactly two fields.
    """
    path = Path(path)
    if not path.is_file():
        what = "a directory" if path.is_dir() else "nothing"
        raise DataError(
            f"interactions file {path}: expected a text file of `user item` lines, found "
            f"{what}; fix the path, or read the shop's database instead",
            options=("database_url",),
        )
    sequences: dict[str, list[str]] = {}
    bad: list[str] = []
    n_bad = 0
    try:
        with path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                parts = line.split()
                if not parts:
                    continue
                if len(parts) != 2:
                    n_bad += 1
                    if len(bad) < _MAX_BAD_LINES_SHOWN:
                        bad.append(f"line {number}: {line.strip()[:80]!r} ({len(parts)} fields)")
                    continue
                sequences.setdefault(parts[0], []).append(parts[1])
    except UnicodeDecodeError as exc:
        raise DataError(
            f"interactions file {path}: expected UTF-8 text, found undecodable bytes ({exc}); "
            "convert the file to UTF-8"
        ) from None
    if n_bad:
        raise DataError(
            f"interactions file {path}: expected `user item` on every line (two fields "
            f"separated by whitespace), found {n_bad} malformed line(s): {'; '.join(bad)}; "
            "fix or remove those lines"
        )
    if not sequences:
        raise DataError(
            f"interactions file {path}: expected `user item` lines, found an empty file; "
            "write one line per interaction, oldest first"
        )
    return Interactions(
        {user: collapse_repeats(seq) for user, seq in sequences.items()}, source=str(path)
    )


def read_database(url: str) -> Interactions:
    """Read purchases (orders) and consented behaviour events from the shop's database.

    Args:
        url: SQLAlchemy URL of the store (SQLite file, PostgreSQL, ...).

    Raises:
        DataError: the database cannot be opened, has neither the order tables nor
            `bot_events`, lacks a column, or holds no usable rows.
    """
    from sqlalchemy import MetaData, Table, and_, inspect, select
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, SQLAlchemyError

    from core.db import make_engine

    try:
        shown = make_url(url).render_as_string(hide_password=True)
        engine = make_engine(url)
    except (ArgumentError, ValueError, ImportError) as exc:
        raise DataError(
            f"database URL {url!r}: expected an SQLAlchemy URL such as "
            f"sqlite:///shopintent.db or postgresql+psycopg://host/db, found an unusable "
            f"one ({exc}); fix the URL or SHOPINTENT_DATABASE_URL",
            options=("database_url",),
        ) from None
    records: list[tuple[str, datetime, int, int, str]] = []
    try:
        tables = set(inspect(engine).get_table_names())
        has_orders = {ORDERS_TABLE, ORDER_LINES_TABLE} <= tables
        if not has_orders and EVENTS_TABLE not in tables:
            raise DataError(
                f"database {shown}: expected the tables `{ORDERS_TABLE}` and "
                f"`{ORDER_LINES_TABLE}` (and optionally `{EVENTS_TABLE}`), found "
                f"{sorted(tables) or 'no tables'}; point the database URL at the shop's store, "
                "or create and fill it with `shopintent db init` and `shopintent db seed`",
                options=("database_url",),
            )
        meta = MetaData()
        with engine.connect() as conn:
            if has_orders:
                orders = Table(ORDERS_TABLE, meta, autoload_with=conn)
                lines = Table(ORDER_LINES_TABLE, meta, autoload_with=conn)
                _require(orders, ("id", "customer_id", "placed_at"), shown)
                _require(lines, ("order_id", "product_id"), shown)
                line_key = lines.c.id if "id" in lines.c else lines.c.order_id
                query = (
                    select(orders.c.customer_id, orders.c.placed_at, lines.c.product_id, line_key)
                    .select_from(lines.join(orders, lines.c.order_id == orders.c.id))
                    .where(lines.c.product_id.is_not(None), orders.c.customer_id.is_not(None))
                )
                for customer, placed, product, key in conn.execute(query):
                    when = _utc(placed)
                    if when is not None:
                        shopper = f"{CUSTOMER_PREFIX}{customer}"
                        records.append((shopper, when, 0, int(key or 0), str(product)))
            if EVENTS_TABLE in tables:
                events = Table(EVENTS_TABLE, meta, autoload_with=conn)
                _require(events, ("shopper", "product_id", "created_at", "consent"), shown)
                opted_out: set[str] = set()
                if OPTOUTS_TABLE in tables:
                    optouts = Table(OPTOUTS_TABLE, meta, autoload_with=conn)
                    if "shopper" in optouts.c:
                        opted_out = {str(s) for s in conn.scalars(select(optouts.c.shopper))}
                event_key = events.c.id if "id" in events.c else events.c.product_id
                query = select(
                    events.c.shopper, events.c.created_at, events.c.product_id, event_key
                ).where(
                    and_(
                        events.c.product_id.is_not(None),
                        events.c.consent.is_(True),
                        events.c.shopper.is_not(None),
                    )
                )
                for shopper, created, product, key in conn.execute(query):
                    when = _utc(created)
                    if when is not None and shopper not in opted_out:
                        records.append((str(shopper), when, 1, int(key or 0), str(product)))
    except SQLAlchemyError as exc:
        raise DataError(
            f"database {shown}: expected a readable shop store, found an error "
            f"({type(exc).__name__}: {str(exc).splitlines()[0]}); check the URL and that the "
            "server is running"
        ) from None
    finally:
        engine.dispose()
    if not records:
        raise DataError(
            f"database {shown}: expected order lines or consented `{EVENTS_TABLE}` rows with "
            "a product_id, found none (an empty store); seed it with `shopintent db seed` "
            "or wait for orders and events to arrive"
        )
    records.sort(key=lambda r: (r[0], r[1], r[2], r[3]))
    sequences: dict[str, list[str]] = {}
    for shopper, _, _, _, item in records:
        sequences.setdefault(shopper, []).append(item)
    return Interactions(
        {s: collapse_repeats(seq) for s, seq in sequences.items()}, source=f"database {shown}"
    )


def load_interactions(
    data: str | Path | None = None, database_url: str | None = None
) -> Interactions:
    """Read interactions from a file (`data`) or else from the database.

    Args:
        data: a `user item` file; wins over `database_url`.
        database_url: SQLAlchemy URL (default: `SHOPINTENT_DATABASE_URL`, else
            `sqlite:///shopintent.db`).

    Raises:
        DataError: see `read_file` and `read_database`.
    """
    if data is not None:
        return read_file(data)
    if database_url is None:
        from recs.config import get_settings

        database_url = get_settings().resolved_database_url
    return read_database(database_url)


def encode(
    interactions: Interactions, items: ItemIndex | None = None
) -> tuple[ItemIndex, list[list[int]]]:
    """Map item tokens to indices 1..N.

    Args:
        interactions: the sequences.
        items: an existing index (a trained model's); tokens it lacks are dropped
            (and repeats they separated collapsed). Default: a new index in order of
            first appearance.

    Returns:
        The index and every shopper's index sequence, in the order of
        `interactions.sequences`.
    """
    if items is None:
        items = ItemIndex(interactions.items())
    index = items.index
    seqs: list[list[int]] = []
    for seq in interactions.sequences.values():
        known = [index[t] for t in seq if t in index]
        seqs.append([i for n, i in enumerate(known) if n == 0 or known[n - 1] != i])
    return items, seqs


def leave_last_out(sequences: Sequence[Sequence[int]]) -> Split:
    """Split each shopper's sequence: last item = test, the one before = validation.

    Shoppers with fewer than 3 items are training-only.
    """
    train: list[list[int]] = []
    validation: list[EvalCase] = []
    test: list[EvalCase] = []
    for seq in sequences:
        seq = list(seq)
        if len(seq) < 3:
            train.append(seq)
            continue
        seen = frozenset(seq)
        train.append(seq[:-2])
        validation.append(EvalCase(history=seq[:-2], target=seq[-2], seen=seen))
        test.append(EvalCase(history=seq[:-1], target=seq[-1], seen=seen))
    return Split(train=train, validation=validation, test=test)


def check_enough(split: Split, n_items: int, source: str) -> None:
    """Refuse data too small to train and validate a recommender.

    Raises:
        TooLittleDataError: fewer than 2 items, no shopper with 3 or more items, or no
            training sequence with 2 or more items.
    """
    n_val = len(split.validation)
    n_pairs = sum(max(0, len(s) - 1) for s in split.train)
    if n_items < 2 or n_val < 1 or n_pairs < 1:
        raise TooLittleDataError(
            f"{source}: expected at least 2 items and 1 shopper with 3 or more interactions "
            f"(the last two are held out for validation and test), found {n_items} item(s), "
            f"{n_val} such shopper(s) and {n_pairs} training transition(s); collect more "
            "orders and events, or train on a larger file"
        )


def _require(table: Any, columns: Sequence[str], shown: str) -> None:
    missing = [c for c in columns if c not in table.c]
    if missing:
        raise DataError(
            f"database {shown}: expected table `{table.name}` to have the columns "
            f"{list(columns)}, found {sorted(table.c.keys())} (missing {missing}); upgrade "
            "the schema with `shopintent db init`"
        )


def _utc(value: object) -> datetime | None:
    """A naive UTC datetime from a datetime, an ISO string or epoch seconds (None if unusable)."""
    if isinstance(value, datetime):
        when = value
    elif isinstance(value, str):
        try:
            when = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
    elif isinstance(value, int | float) and not isinstance(value, bool):
        when = datetime.fromtimestamp(float(value), UTC)
    else:
        return None
    if when.tzinfo is not None:
        when = when.astimezone(UTC).replace(tzinfo=None)
    return when
