from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    insert,
)

from recs.data import (
    Interactions,
    ItemIndex,
    check_enough,
    collapse_repeats,
    encode,
    leave_last_out,
    load_interactions,
    read_database,
    read_file,
)
from recs.errors import DataError, TooLittleDataError


def test_read_file_keeps_each_users_items_in_file_order(tmp_path: Path) -> None:
    path = tmp_path / "log.txt"
    path.write_text("alice sku-9\nbob 7\n\nalice\tsku-1\nbob 7\nbob x\n", encoding="utf-8")

    data = read_file(path)

    assert data.sequences == {"alice": ["sku-9", "sku-1"], "bob": ["7", "x"]}
    assert data.n_shoppers == 2
    assert data.items() == ["sku-9", "sku-1", "7", "x"]


def test_encode_maps_tokens_to_one_based_indices_and_keeps_zero_for_padding() -> None:
    data = Interactions({"a": ["x", "y", "x"], "b": ["z", "y"]})

    items, seqs = encode(data)

    assert items.index == {"x": 1, "y": 2, "z": 3}
    assert seqs == [[1, 2, 1], [3, 2]]
    assert ItemIndex.from_mapping(items.index).tokens == ["x", "y", "z"]


def test_encode_with_a_models_index_drops_unknown_items() -> None:
    items = ItemIndex(["x", "y"])

    _, seqs = encode(Interactions({"a": ["x", "new", "x", "y"]}), items)

    assert seqs == [[1, 2]]


def test_consecutive_repeats_collapse_into_one_step() -> None:
    assert collapse_repeats(["a", "a", "b", "a", "a"]) == ["a", "b", "a"]


def test_missing_file_says_what_was_expected(tmp_path: Path) -> None:
    with pytest.raises(
        DataError, match=r"expected a text file of `user item` lines, found nothing"
    ):
        read_file(tmp_path / "nope.txt")


def test_malformed_lines_are_reported_with_their_numbers(tmp_path: Path) -> None:
    path = tmp_path / "bad.txt"
    path.write_text("u1 a\nu1 b c\nu2\nu2 d\n", encoding="utf-8")

    with pytest.raises(
        DataError, match=r"found 2 malformed line\(s\): line 2: 'u1 b c' \(3 fields\)"
    ):
        read_file(path)


def test_empty_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "empty.txt"
    path.write_text("\n\n", encoding="utf-8")

    with pytest.raises(DataError, match="found an empty file"):
        read_file(path)


def test_leave_last_out_holds_out_the_last_two_items() -> None:
    split = leave_last_out([[1, 2, 3, 4, 5], [6, 7], [8, 9, 1]])

    assert split.train == [[1, 2, 3], [6, 7], [8]]
    assert [(c.history, c.target) for c in split.validation] == [([1, 2, 3], 4), ([8], 9)]
    assert [(c.history, c.target) for c in split.test] == [([1, 2, 3, 4], 5), ([8, 9], 1)]
    assert split.test[0].seen == frozenset({1, 2, 3, 4, 5})


def test_too_little_data_names_what_is_missing() -> None:
    split = leave_last_out([[1, 2], [2, 1]])

    with pytest.raises(TooLittleDataError, match=r"found 2 item\(s\), 0 such shopper\(s\)"):
        check_enough(split, 2, "tiny.txt")


def _shop_db(path: Path, events: bool = True) -> str:
    url = f"sqlite:///{path}"
    engine = create_engine(url)
    meta = MetaData()
    orders = Table(
        "orders",
        meta,
        Column("id", Integer, primary_key=True),
        Column("customer_id", Integer),
        Column("placed_at", DateTime),
        Column("status", String(20)),
    )
    lines = Table(
        "order_lines",
        meta,
        Column("id", Integer, primary_key=True),
        Column("order_id", Integer),
        Column("product_id", Integer),
    )
    bot_events = Table(
        "bot_events",
        meta,
        Column("id", Integer, primary_key=True),
        Column("shopper", String(160)),
        Column("type", String(20)),
        Column("product_id", Integer, nullable=True),
        Column("query", Text, nullable=True),
        Column("created_at", DateTime(timezone=True)),
        Column("consent", Boolean),
    )
    optouts = Table("bot_tracking_optouts", meta, Column("shopper", String(160), primary_key=True))
    if not events:
        meta.remove(bot_events)
        meta.remove(optouts)
    meta.create_all(engine)
    t0 = datetime(2026, 1, 1, 12, 0)
    with engine.begin() as conn:
        conn.execute(
            insert(orders),
            [
                {"id": 1, "customer_id": 7, "placed_at": t0 + timedelta(days=2), "status": "paid"},
                {"id": 2, "customer_id": 7, "placed_at": t0, "status": "delivered"},
            ],
        )
        conn.execute(
            insert(lines),
            [
                {"id": 1, "order_id": 1, "product_id": 30},
                {"id": 2, "order_id": 2, "product_id": 10},
                {"id": 3, "order_id": 2, "product_id": 11},
            ],
        )
        if events:
            conn.execute(
                insert(bot_events),
                [
                    # Viewed 20 a day after the first order (stored with a time zone).
                    _event("customer:7", 20, t0 + timedelta(days=1, hours=2)),
                    _event("customer:7", None, t0 + timedelta(days=1), kind="search"),
                    _event("customer:7", 99, t0 + timedelta(days=1), consent=False),
                    _event("guest-abc", 10, t0),
                    _event("guest-abc", 10, t0 + timedelta(minutes=1), kind="add_to_cart"),
                    _event("guest-abc", 11, t0 + timedelta(minutes=2)),
                    _event("gone", 10, t0),
                ],
            )
            conn.execute(insert(optouts), [{"shopper": "gone"}])
    engine.dispose()
    return url


def _event(
    shopper: str,
    product: int | None,
    when: datetime,
    kind: str = "product_view",
    consent: bool = True,
) -> dict[str, object]:
    return {
        "shopper": shopper,
        "type": kind,
        "product_id": product,
        "query": "boots" if kind == "search" else None,
        "created_at": when.replace(tzinfo=UTC),
        "consent": consent,
    }


def test_read_database_merges_orders_and_consented_events_in_time_order(tmp_path: Path) -> None:
    url = _shop_db(tmp_path / "shop.db")

    data = read_database(url)

    assert data.sequences == {
        "customer:7": ["10", "11", "20", "30"],
        # view, add-to-cart of the same product count once
        "guest-abc": ["10", "11"],
    }
    assert data.source.startswith("database sqlite:///")


def test_read_database_works_without_the_events_table(tmp_path: Path) -> None:
    data = load_interactions(database_url=_shop_db(tmp_path / "shop.db", events=False))

    assert data.sequences == {"customer:7": ["10", "11", "30"]}


def test_database_without_shop_tables_says_which_tables_it_expected(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'other.db'}")
    Table("things", MetaData(), Column("id", Integer, primary_key=True)).create(engine)
    engine.dispose()

    with pytest.raises(
        DataError, match=r"expected the tables `orders` and `order_lines`.*found \['things'\]"
    ):
        read_database(f"sqlite:///{tmp_path / 'other.db'}")


def test_empty_store_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    engine = create_engine(url)
    meta = MetaData()
    Table(
        "orders",
        meta,
        Column("id", Integer, primary_key=True),
        Column("customer_id", Integer),
        Column("placed_at", DateTime),
    )
    Table(
        "order_lines",
        meta,
        Column("id", Integer, primary_key=True),
        Column("order_id", Integer),
        Column("product_id", Integer),
    )
    meta.create_all(engine)
    engine.dispose()

    with pytest.raises(DataError, match=r"found none \(an empty store\)"):
        read_database(url)
