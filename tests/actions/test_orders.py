"""Order identity in `actions.orders`: numbers, lookups, ownership, failures, audit, pending changes."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from actions import orders, store
from actions.lookup_failures import (
    lookup_failures,
    purge_lookup_failures,
    record_lookup_failure,
)
from actions.models import Customer, Order, OrderAudit, OrderLookupFailure, PendingChange
from actions.order_changes import audit, create_pending_change, take_pending_change
from actions.orders import (
    GENERIC_ADDRESS,
    email_matches,
    find_order,
    find_order_by_invoice,
    mask_address,
    new_order_number,
    normalise_order_number,
    orders_of_customer,
    owned_by,
    utcnow,
)
from tests.actions.conftest import first_order, load_order, seed_store


@pytest.fixture(scope="module")
def orders_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A seeded store for this module; every test's changes are rolled back."""
    return seed_store(f"sqlite:///{tmp_path_factory.mktemp('orders') / 'shop.db'}")


@pytest.fixture
def db(orders_url: str) -> Iterator[Session]:
    """A session whose writes are rolled back at the end of the test."""
    with store.session_factory(orders_url)() as s:
        try:
            yield s
        finally:
            s.rollback()


@pytest.fixture
def order(db: Session, orders_url: str) -> Order:
    """A paid order of the seed."""
    return load_order(db, first_order(orders_url, "paid"))


def test_new_order_numbers_are_si_and_ten_digits_and_differ() -> None:
    numbers = {new_order_number() for _ in range(50)}
    assert all(re.fullmatch(r"SI\d{10}", n) for n in numbers)
    assert len(numbers) == 50


@pytest.mark.parametrize(
    "text",
    [
        "SI4829301746",
        "si4829301746",
        "#SI4829301746",
        "SI-4829301746",
        "SI 4829 3017 46",
        " Si4829301746 ",
    ],
)
def test_normalise_order_number_accepts_what_shoppers_type(text: str) -> None:
    assert normalise_order_number(text) == "SI4829301746"


@pytest.mark.parametrize(
    "text",
    [
        None,
        "",
        "123456",
        "4829301746",
        "SI482930174",
        "SI48293017460",
        "SO4829301746",
        "SI--4829301746",
        "SI4829301746 x",
    ],
)
def test_normalise_order_number_rejects_other_shapes(text: str | None) -> None:
    assert normalise_order_number(text) is None


def test_find_order_by_number_in_any_written_form(db: Session, order: Order) -> None:
    spaced = f"{order.number[:2]} {order.number[2:6]} {order.number[6:]}"
    for written in (order.number, order.number.lower(), f"#{order.number}", spaced):
        found = find_order(db, written)
        assert found is not None and found.id == order.id
    assert found.customer is not None and found.lines


def test_find_order_never_accepts_the_internal_id(db: Session, order: Order) -> None:
    assert find_order(db, str(order.id)) is None
    assert find_order(db, None) is None
    assert find_order(db, "123456") is None


def test_find_order_by_invoice_uses_the_new_invoice_numbers(db: Session, orders_url: str) -> None:
    delivered = load_order(db, first_order(orders_url, "delivered"))
    assert delivered.invoice is not None
    number = delivered.invoice.number
    assert re.fullmatch(r"INV-\d{4}-\d{6}", number)
    for written in (number, number.lower(), f"#{number}", number.replace("-", "")):
        found = find_order_by_invoice(db, written)
        assert found is not None and found.id == delivered.id
    by_order = find_order_by_invoice(db, delivered.number)
    assert by_order is not None and by_order.id == delivered.id


@pytest.mark.parametrize("reference", ["INV-1999-000000", "123456", "ORD-55", "", None])
def test_find_order_by_invoice_returns_none_for_unknown_shapes(
    db: Session, reference: str | None
) -> None:
    assert find_order_by_invoice(db, reference) is None


def test_orders_of_customer_are_theirs_newest_first(db: Session) -> None:
    customer_id = db.scalar(
        select(Order.customer_id).group_by(Order.customer_id).order_by(Order.customer_id).limit(1)
    )
    everything = orders_of_customer(db, str(customer_id), limit=100)
    assert everything and {o.customer_id for o in everything} == {customer_id}
    dates = [o.placed_at for o in everything]
    assert dates == sorted(dates, reverse=True)
    assert orders_of_customer(db, str(customer_id), limit=1) == everything[:1]


@pytest.mark.parametrize("customer_id", ["", "abc", "1 OR 1=1", "-1", "042", " 42", "٤٢", "9" * 40])
def test_orders_of_customer_with_a_malformed_id_is_empty(db: Session, customer_id: str) -> None:
    assert orders_of_customer(db, customer_id) == []


def test_orders_of_customer_rejects_a_limit_below_one(db: Session) -> None:
    with pytest.raises(ValueError, match="expected limit to be at least 1, but found 0"):
        orders_of_customer(db, "1", limit=0)


def test_owned_by_compares_the_customer_id_as_text(order: Order) -> None:
    assert owned_by(order, str(order.customer_id))
    assert not owned_by(order, str(order.customer_id + 1))
    assert not owned_by(order, None)
    assert not owned_by(order, f"0{order.customer_id}")


def test_email_matches_ignores_case_and_spaces(order: Order) -> None:
    email = order.customer.email
    assert email_matches(order, email)
    assert email_matches(order, f"  {email.upper()} ")
    assert not email_matches(order, "someone.else@example.com")
    assert not email_matches(order, email + "x")


@pytest.mark.parametrize("email", [None, "", "   "])
def test_email_matches_is_false_for_a_blank_address(order: Order, email: str | None) -> None:
    assert not email_matches(order, email)


def test_email_matches_compares_in_constant_time(
    order: Order, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[bytes, bytes]] = []
    real = orders.hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(orders.hmac, "compare_digest", spy)
    assert not email_matches(order, "wrong@example.com")
    assert calls == [(b"wrong@example.com", order.customer.email.casefold().encode())]


def test_lookup_failures_are_counted_per_key_in_the_window(db: Session) -> None:
    for _ in range(3):
        record_lookup_failure(db, "conversation", "chat-1")
    record_lookup_failure(db, "client", "chat-1")
    db.flush()
    db.execute(
        update(OrderLookupFailure)
        .where(OrderLookupFailure.id == db.scalar(select(OrderLookupFailure.id).limit(1)))
        .values(at=utcnow() - timedelta(hours=2))
    )
    assert lookup_failures(db, "conversation", "chat-1", timedelta(hours=1)) == 2
    assert lookup_failures(db, "conversation", "chat-1", timedelta(hours=3)) == 3
    assert lookup_failures(db, "client", "chat-1", timedelta(hours=1)) == 1
    assert lookup_failures(db, "conversation", "chat-2", timedelta(hours=1)) == 0


def test_purge_lookup_failures_deletes_only_old_ones(db: Session) -> None:
    record_lookup_failure(db, "client", "10.0.0.1")
    record_lookup_failure(db, "client", "10.0.0.1")
    db.flush()
    db.execute(update(OrderLookupFailure).values(at=utcnow() - timedelta(days=2)))
    record_lookup_failure(db, "client", "10.0.0.1")
    db.flush()
    assert purge_lookup_failures(db, timedelta(days=1)) == 2
    assert lookup_failures(db, "client", "10.0.0.1", timedelta(days=7)) == 1


def test_long_failure_keys_are_stored_as_the_same_digest(db: Session) -> None:
    key = "x" * 500
    record_lookup_failure(db, "conversation", key)
    db.flush()
    assert lookup_failures(db, "conversation", key, timedelta(minutes=5)) == 1
    stored = db.scalar(select(OrderLookupFailure.key))
    assert stored is not None and stored.startswith("sha256:") and len(stored) <= 128


def test_an_unknown_failure_scope_is_refused(db: Session) -> None:
    with pytest.raises(ValueError, match="expected scope to be one of conversation, client"):
        record_lookup_failure(db, "ip", "10.0.0.1")


def test_audit_records_who_changed_what(db: Session, order: Order) -> None:
    details = {"status_before": "paid", "status_after": "cancelled", "refund": 12.5}
    audit(db, order, action="cancel", actor="customer:42", conversation="chat-1", details=details)
    db.flush()
    row = db.scalars(select(OrderAudit).where(OrderAudit.order_id == order.id)).one()
    assert (row.action, row.actor, row.conversation, row.details) == (
        "cancel",
        "customer:42",
        "chat-1",
        details,
    )
    assert row.at is not None and row.at.tzinfo is None


def test_audit_refuses_a_blank_action(db: Session, order: Order) -> None:
    with pytest.raises(ValueError, match="expected action to be a short name"):
        audit(db, order, action="", actor="guest", conversation="c", details={})


def test_a_pending_change_is_taken_once(db: Session, order: Order) -> None:
    token = create_pending_change(
        db,
        order,
        kind="change_address",
        actor="guest",
        conversation="chat-1",
        new_address="42 Baker Street, London NW1",
    )
    assert len(token) >= 32
    change = take_pending_change(db, token, "chat-1")
    assert change is not None
    assert (change.order_id, change.kind, change.actor) == (order.id, "change_address", "guest")
    assert change.new_address == "42 Baker Street, London NW1"
    assert change.order.number == order.number
    assert take_pending_change(db, token, "chat-1") is None


def test_a_pending_change_is_not_taken_from_another_conversation(db: Session, order: Order) -> None:
    token = create_pending_change(db, order, kind="cancel", actor="guest", conversation="chat-1")
    assert take_pending_change(db, token, "chat-2") is None
    assert take_pending_change(db, token, "chat-1") is not None


def test_an_expired_pending_change_is_deleted(db: Session, order: Order) -> None:
    token = create_pending_change(db, order, kind="cancel", actor="guest", conversation="chat-1")
    db.execute(
        update(PendingChange)
        .where(PendingChange.token == token)
        .values(expires_at=utcnow() - timedelta(seconds=1))
    )
    assert take_pending_change(db, token, "chat-1") is None
    assert db.get(PendingChange, token) is None


def test_a_new_pending_change_replaces_the_conversations_older_one(
    db: Session, order: Order
) -> None:
    first = create_pending_change(db, order, kind="cancel", actor="guest", conversation="chat-1")
    other = create_pending_change(db, order, kind="cancel", actor="guest", conversation="chat-2")
    second = create_pending_change(db, order, kind="cancel", actor="guest", conversation="chat-1")
    assert take_pending_change(db, first, "chat-1") is None
    assert take_pending_change(db, second, "chat-1") is not None
    assert take_pending_change(db, other, "chat-2") is not None


@pytest.mark.parametrize("token", [None, "", "nope", "x" * 500])
def test_taking_an_unknown_token_gives_none(db: Session, token: str | None) -> None:
    assert take_pending_change(db, token, "chat-1") is None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"kind": "refund"}, "expected kind to be one of cancel, change_address"),
        ({"kind": "change_address"}, "expected a new_address"),
        ({"kind": "cancel", "ttl": timedelta(0)}, "expected ttl to be positive"),
    ],
)
def test_create_pending_change_refuses_bad_arguments(
    db: Session, order: Order, kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        create_pending_change(db, order, actor="guest", conversation="c", **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("address", "masked"),
    [
        ("1234 Oak Street, Springfield, IL 62704", "Springfield, IL 62704"),
        ("5 Elm St, Portland, OR 97201", "Portland, OR 97201"),
        ("42 Baker Street, London NW1", "London NW1"),
        ("Flat 2, 10 Downing St, London SW1A 2AA", "London SW1A 2AA"),
        ("9 Pine Rd, Hillside Blvd, Austin, TX 73301", "Austin, TX 73301"),
        ("1 Main St, Springfield", GENERIC_ADDRESS),
        ("somewhere nice", GENERIC_ADDRESS),
        ("", GENERIC_ADDRESS),
        ("12 Oak Street 62704, Oak Street 62704", GENERIC_ADDRESS),
    ],
)
def test_mask_address_keeps_city_and_postcode_only(address: str, masked: str) -> None:
    assert mask_address(address) == masked


def test_mask_address_never_shows_a_seeded_street_or_house_number(db: Session) -> None:
    addresses = db.scalars(select(Customer.address)).all()
    assert addresses
    for address in addresses:
        street = address.split(",")[0]
        masked = mask_address(address)
        assert masked != GENERIC_ADDRESS, address
        house, street_name = street.split(" ", 1)
        assert street_name not in masked and not re.search(rf"\b{house}\b", masked), address
