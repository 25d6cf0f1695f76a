"""The actions called directly (CollectingDispatcher + Tracker) on seeded stores.

Order actions are called as the order's owner (slot `customer_id`) or as a guest who
typed its e-mail (`order_email`); `tests/actions/test_access.py` covers everyone else.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from rasa_sdk import Action
from rasa_sdk.interfaces import ActionExecutionRejection
from sqlalchemy import select

from actions import store
from actions.handoff_actions import ActionHandoff
from actions.models import PendingChange, Product
from actions.order_actions import (
    ActionCancelOrder,
    ActionChangeShippingAddress,
    ActionConfirmChange,
    ActionDiscardChange,
    ActionInvoice,
    ActionOrderStatus,
    ActionRefundStatus,
)
from actions.orders import GENERIC_ADDRESS, mask_address
from actions.policy_actions import ActionDeliveryOptions, ActionPaymentMethods, ActionReturnPolicy
from actions.product_actions import (
    ActionCompareProducts,
    ActionProductInfo,
    ActionProductSearch,
    ActionRecommendProducts,
)
from actions.replies import day, money
from tests.actions.conftest import (
    DOMAIN_ACTIONS,
    NEW_ADDRESS,
    SENDER,
    Reply,
    audit_rows,
    call,
    first_order,
    guest,
    load_order,
    order_key,
    order_snapshot,
    owner,
    point_settings_at,
    refund_amounts,
    seed_store,
    stranger,
    ticket_of,
)

REPO = Path(__file__).resolve().parents[2]
ALL_ACTIONS: list[Action] = [
    ActionOrderStatus(),
    ActionCancelOrder(),
    ActionChangeShippingAddress(),
    ActionConfirmChange(),
    ActionDiscardChange(),
    ActionInvoice(),
    ActionRefundStatus(),
    ActionReturnPolicy(),
    ActionDeliveryOptions(),
    ActionPaymentMethods(),
    ActionProductInfo(),
    ActionProductSearch(),
    ActionRecommendProducts(),
    ActionCompareProducts(),
    ActionHandoff(),
]
CARD_KEYS = {"id", "title", "brand", "price", "rating", "availability"}
NEW_CITY = "Springfield, IL 62704"


def confirm(slots: dict[str, str], token: str | None, *, sender: str = SENDER) -> Reply:
    """Say yes to the pending change `token` with these slots, in conversation `sender`."""
    return call(
        ActionConfirmChange(), "yes", slots={**slots, "pending_change": token}, sender=sender
    )


def pending_tokens(url: str) -> list[str]:
    """The tokens of every change that still waits for a yes."""
    with store.session_factory(url)() as session:
        return list(session.scalars(select(PendingChange.token)))


def test_every_domain_action_has_an_implementation() -> None:
    assert sorted(a.name() for a in ALL_ACTIONS) == sorted(DOMAIN_ACTIONS)


def test_the_domain_lists_exactly_the_implemented_actions() -> None:
    domain = yaml.safe_load((REPO / "training_data" / "domain.yml").read_text(encoding="utf-8"))
    assert sorted(domain["actions"]) == sorted(DOMAIN_ACTIONS)


WHO = {"owner": owner, "guest": guest}


@pytest.mark.parametrize("who", sorted(WHO))
def test_order_status_of_a_shipped_order_gives_carrier_and_tracking(shop: str, who: str) -> None:
    number = first_order(shop, "shipped")
    reply = call(ActionOrderStatus(), f"where is my order {number}?", slots=WHO[who](shop, number))
    assert f"Order {number}" in reply.text
    assert "shipped on" in reply.text
    assert re.search(r"tracking number [A-Z0-9]{8,}", reply.text)
    assert reply.slot("order_id") == number


def test_order_status_reads_the_order_number_from_the_slot(shop: str) -> None:
    number = first_order(shop, "delivered")
    reply = call(
        ActionOrderStatus(), "where is it?", slots={"order_id": number, **owner(shop, number)}
    )
    assert f"Order {number}" in reply.text
    assert "delivered on" in reply.text


def test_order_status_prefers_the_entity_over_an_old_slot(shop: str) -> None:
    old, new = first_order(shop, "delivered"), first_order(shop, "paid")
    reply = call(
        ActionOrderStatus(),
        "and this one?",
        entities=[("order_id", new)],
        slots={"order_id": old, **owner(shop, new)},
    )
    assert f"Order {new}" in reply.text
    assert old not in reply.text


@pytest.mark.parametrize(
    ("text", "entities", "slots", "expected"),
    [
        ("where is my order?", [], {}, "What's your order number?"),
        ("where is order 999999", [], {}, "what is the e-mail address on order 999999?"),
        ("track my order", [("order_id", "42")], {}, "what is the e-mail address on order 42?"),
        (
            "where is order 999999",
            [],
            {"customer_id": "1"},
            "I couldn't find order 999999 among the orders on your account",
        ),
    ],
    ids=["guest-no-number", "guest-no-email", "guest-entity-no-email", "customer-unknown-number"],
)
def test_order_status_without_a_known_order_explains_what_to_do(
    shop: str,
    text: str,
    entities: list[tuple[str, str]],
    slots: dict[str, str],
    expected: str,
) -> None:
    reply = call(ActionOrderStatus(), text, entities=entities, slots=slots)
    assert expected in reply.text
    assert not reply.slot("order_id") and not reply.slot("verified_order_id")


def test_cancel_on_a_shipped_order_refuses_and_says_why(fresh_shop: str) -> None:
    number = first_order(fresh_shop, "shipped")
    reply = call(ActionCancelOrder(), f"cancel order {number}", slots=owner(fresh_shop, number))
    assert "can't cancel" in reply.text
    assert "already shipped" in reply.text
    assert "only be cancelled before they ship" in reply.text
    assert reply.slot("pending_change") is None and pending_tokens(fresh_shop) == []
    with store.session_factory(fresh_shop)() as s:
        assert load_order(s, number).status == "shipped"


def test_cancel_on_a_paid_order_asks_then_cancels_refunds_once_and_reports_already_cancelled(
    fresh_shop: str,
) -> None:
    number = first_order(fresh_shop, "paid")
    slots = owner(fresh_shop, number)
    with store.session_factory(fresh_shop)() as s:
        order = load_order(s, number)
        title, total = order.lines[0].product.title, order.total
    asked = call(
        ActionCancelOrder(), "please cancel it", entities=[("order_id", number)], slots=slots
    )
    assert f"Please confirm: cancel order {number}" in asked.text
    assert title in asked.text and money(total) in asked.text
    assert [b["payload"] for b in asked.buttons] == ["/affirm", "/deny"]
    token = asked.slot("pending_change")
    assert token and pending_tokens(fresh_shop) == [token]
    with store.session_factory(fresh_shop)() as s:
        assert load_order(s, number).status == "paid"
    assert refund_amounts(fresh_shop, number) == []

    done = confirm(slots, token)
    assert f"Done: order {number} is cancelled" in done.text
    assert "refunded" in done.text
    assert {"event": "slot", "name": "pending_change", "value": None, "timestamp": None} in (
        done.events
    )
    with store.session_factory(fresh_shop)() as s:
        order = load_order(s, number)
        assert order.status == "cancelled" and order.cancelled_at is not None
    assert refund_amounts(fresh_shop, number) == [total]
    [row] = audit_rows(fresh_shop, number)
    customer = slots["customer_id"]
    assert (row.actor, row.action, row.conversation) == (f"customer:{customer}", "cancel", SENDER)
    assert row.details == {"status_before": "paid", "status_after": "cancelled", "refund": total}

    again = confirm(slots, token)
    assert "expired or was already handled" in again.text
    assert refund_amounts(fresh_shop, number) == [total]
    assert len(audit_rows(fresh_shop, number)) == 1
    second = call(ActionCancelOrder(), f"cancel {number}", slots=slots)
    assert "already cancelled" in second.text
    assert second.slot("pending_change") is None


def test_cancel_on_a_placed_order_says_nothing_was_charged(fresh_shop: str) -> None:
    number = first_order(fresh_shop, "placed")
    slots = guest(fresh_shop, number)
    asked = call(ActionCancelOrder(), f"cancel {number}", slots=slots)
    assert "haven't been charged" in asked.text
    assert asked.slot("verified_order_id") == number
    proved = {"verified_order_id": number, "pending_change": asked.slot("pending_change")}
    done = call(ActionConfirmChange(), "yes", slots=proved)
    assert f"order {number} is cancelled" in done.text and "haven't been charged" in done.text
    assert refund_amounts(fresh_shop, number) == []
    [row] = audit_rows(fresh_shop, number)
    assert (row.actor, row.action, row.details["refund"]) == ("guest", "cancel", None)


def test_denying_a_cancellation_changes_nothing_and_drops_the_request(fresh_shop: str) -> None:
    number = first_order(fresh_shop, "paid")
    slots = owner(fresh_shop, number)
    before = order_snapshot(fresh_shop)
    token = call(ActionCancelOrder(), f"cancel {number}", slots=slots).slot("pending_change")
    denied = call(ActionDiscardChange(), "no", slots={**slots, "pending_change": token})
    assert f"I haven't changed anything: order {number} stays as it is" in denied.text
    assert denied.slot("pending_change") is None
    assert pending_tokens(fresh_shop) == []
    assert "expired or was already handled" in confirm(slots, token).text
    assert order_snapshot(fresh_shop) == before
    assert audit_rows(fresh_shop, number) == []


def test_a_confirmation_from_another_conversation_changes_nothing(fresh_shop: str) -> None:
    number = first_order(fresh_shop, "paid")
    slots = owner(fresh_shop, number)
    before = order_snapshot(fresh_shop)
    token = call(ActionCancelOrder(), f"cancel {number}", slots=slots).slot("pending_change")
    elsewhere = confirm(slots, token, sender="another-tab")
    assert "expired or was already handled" in elsewhere.text
    assert order_snapshot(fresh_shop) == before and audit_rows(fresh_shop, number) == []
    # The request still waits for the conversation it was made in.
    assert pending_tokens(fresh_shop) == [token]
    assert "is cancelled" in confirm(slots, token).text


def test_a_confirmation_by_someone_else_in_the_conversation_changes_nothing(
    fresh_shop: str,
) -> None:
    number = first_order(fresh_shop, "paid")
    before = order_snapshot(fresh_shop)
    token = call(ActionCancelOrder(), f"cancel {number}", slots=owner(fresh_shop, number)).slot(
        "pending_change"
    )
    for slots in (stranger(fresh_shop, number), {"verified_order_id": number}):
        assert "expired or was already handled" in confirm(slots, token).text
    assert order_snapshot(fresh_shop) == before and audit_rows(fresh_shop, number) == []


def test_change_address_before_shipping_asks_then_updates_and_audits_masked_values(
    fresh_shop: str,
) -> None:
    number = first_order(fresh_shop, "paid")
    slots = owner(fresh_shop, number)
    with store.session_factory(fresh_shop)() as s:
        old = load_order(s, number).shipping_address
    street, old_city = old.split(",", 1)[0], mask_address(old)
    asked = call(
        ActionChangeShippingAddress(),
        f"change the address of order {number} to {NEW_ADDRESS}",
        slots=slots,
    )
    assert "Please confirm" in asked.text
    assert NEW_CITY in asked.text and old_city in asked.text
    assert street not in asked.text and "42 Baker Street" not in asked.text
    with store.session_factory(fresh_shop)() as s:
        assert load_order(s, number).shipping_address == old

    done = confirm(slots, asked.slot("pending_change"))
    assert f"Updated: order {number} will now ship to the new address in {NEW_CITY}" in done.text
    assert street not in done.text and "42 Baker Street" not in done.text
    with store.session_factory(fresh_shop)() as s:
        assert load_order(s, number).shipping_address == NEW_ADDRESS
    [row] = audit_rows(fresh_shop, number)
    assert (row.action, row.actor) == ("change_address", f"customer:{slots['customer_id']}")
    assert row.details == {"from": old_city, "to": NEW_CITY}
    assert street not in json.dumps(row.details) and "Baker" not in json.dumps(row.details)


def test_change_address_without_an_address_shows_only_the_city_and_asks(shop: str) -> None:
    number = first_order(shop, "paid")
    with store.session_factory(shop)() as s:
        address = load_order(s, number).shipping_address
    reply = call(
        ActionChangeShippingAddress(),
        f"I need to change the address for {number}",
        slots=owner(shop, number),
    )
    assert "What's the new address" in reply.text
    assert f"going to {mask_address(address)}" in reply.text
    assert mask_address(address) != GENERIC_ADDRESS
    assert address.split(",", 1)[0] not in reply.text
    assert reply.slot("pending_change") is None


def test_change_address_after_shipping_is_refused(shop: str) -> None:
    number = first_order(shop, "shipped")
    reply = call(
        ActionChangeShippingAddress(),
        f"change address of {number} to 1 Main St, Springfield",
        slots=owner(shop, number),
    )
    assert "can't change the address" in reply.text
    assert "tracking number" in reply.text
    assert reply.slot("pending_change") is None


def test_invoice_of_a_paid_order_gives_its_number_date_and_amount(shop: str) -> None:
    number = first_order(shop, "delivered")
    with store.session_factory(shop)() as s:
        invoice = load_order(s, number).invoice
        assert invoice is not None
    reply = call(ActionInvoice(), f"invoice for {number}", slots=owner(shop, number))
    assert f"The invoice for order {number} is {invoice.number}" in reply.text
    assert day(invoice.issued_at) in reply.text and money(invoice.amount) in reply.text


def test_invoice_can_be_found_by_its_number(shop: str) -> None:
    number = first_order(shop, "delivered")
    with store.session_factory(shop)() as s:
        invoice = load_order(s, number).invoice
        assert invoice is not None
        ref = invoice.number
    reply = call(
        ActionInvoice(),
        f"I need invoice {ref}",
        entities=[("invoice_id", ref)],
        slots=owner(shop, number),
    )
    assert f"The invoice for order {number} is {ref}" in reply.text


@pytest.mark.parametrize("who", ["stranger", "unproved guest"])
def test_invoice_by_number_of_someone_elses_order_is_not_shown(shop: str, who: str) -> None:
    number = first_order(shop, "delivered")
    with store.session_factory(shop)() as s:
        invoice = load_order(s, number).invoice
        assert invoice is not None
        ref, amount = invoice.number, invoice.amount
    slots = stranger(shop, number) if who == "stranger" else {}
    reply = call(
        ActionInvoice(), f"I need invoice {ref}", entities=[("invoice_id", ref)], slots=slots
    )
    assert f"couldn't find an invoice numbered {ref} that I can show you" in reply.text
    assert number not in reply.text and money(amount) not in reply.text
    assert reply.events == []


def test_unknown_invoice_number_asks_for_the_order_number(shop: str) -> None:
    reply = call(ActionInvoice(), "send me invoice #00108", entities=[("invoice_id", "#00108")])
    assert "couldn't find an invoice numbered #00108" in reply.text
    assert "order number (it starts with SI)" in reply.text


def test_invoice_of_an_unpaid_order_explains_why_there_is_none(shop: str) -> None:
    number = first_order(shop, "placed")
    reply = call(ActionInvoice(), f"invoice for {number}", slots=owner(shop, number))
    assert f"Order {number} has no invoice because it hasn't been paid yet" in reply.text


def test_refund_status_of_a_refunded_order_lists_the_refund(shop: str) -> None:
    number = first_order(shop, "refunded")
    amounts = refund_amounts(shop, number)
    reply = call(
        ActionRefundStatus(), f"where is my refund for {number}", slots=owner(shop, number)
    )
    assert f"Refunds for order {number}" in reply.text
    assert "completed on" in reply.text
    assert amounts and all(money(a) in reply.text for a in amounts)


def test_return_policy_for_an_order_lists_each_product(shop: str) -> None:
    number = first_order(shop, "delivered")
    with store.session_factory(shop)() as s:
        titles = [line.product.title for line in load_order(s, number).lines]
    reply = call(ActionReturnPolicy(), f"can I return order {number}?", slots=owner(shop, number))
    for title in titles:
        assert title in reply.text


@pytest.mark.parametrize("who", ["stranger", "unproved guest"])
def test_return_policy_for_an_order_not_shown_to_be_theirs_is_the_general_one(
    shop: str, who: str
) -> None:
    number = first_order(shop, "delivered")
    with store.session_factory(shop)() as s:
        titles = [line.product.title for line in load_order(s, number).lines]
    slots = stranger(shop, number) if who == "stranger" else {}
    reply = call(ActionReturnPolicy(), f"can I return order {number}?", slots=slots)
    assert "Here is our general policy" in reply.text
    assert not [t for t in titles if t in reply.text]
    assert reply.events == []


@pytest.mark.parametrize("who", ["owner", "stranger"])
def test_delivery_options_name_the_orders_method_only_to_its_owner(shop: str, who: str) -> None:
    number = first_order(shop, "paid")
    with store.session_factory(shop)() as s:
        method = load_order(s, number).shipping_method
    slots = owner(shop, number) if who == "owner" else stranger(shop, number)
    reply = call(ActionDeliveryOptions(), f"how will order {number} be delivered?", slots=slots)
    assert "We deliver with:" in reply.text
    mentioned = f"Your order {number} goes by {method} delivery." in reply.text
    assert mentioned == (who == "owner")


def test_return_policy_for_a_product_quotes_its_policy(shop: str) -> None:
    reply = call(ActionReturnPolicy(), "what's the return policy of the iphone x")
    assert "iPhone X: 7 days return policy" in reply.text
    assert reply.cards[0]["title"] == "iPhone X"


def test_return_policy_in_general_comes_from_the_store(shop: str) -> None:
    reply = call(ActionReturnPolicy(), "what is your return policy?")
    assert "return period" in reply.text


def test_delivery_options_list_periods_and_prices(shop: str) -> None:
    reply = call(ActionDeliveryOptions(), "what are your delivery options")
    assert "Express" in reply.text and "1-2 business days" in reply.text and "$14.99" in reply.text


def test_delivery_options_for_a_product_add_its_shipping_time(shop: str) -> None:
    reply = call(
        ActionDeliveryOptions(), "how long does shipping take", entities=[("product", "mascara")]
    )
    assert "Essence Mascara Lash Princess itself: ships in 3-5 business days" in reply.text


def test_payment_methods_come_from_the_store(shop: str) -> None:
    reply = call(ActionPaymentMethods(), "can I pay with paypal?")
    assert "PayPal" in reply.text and "Klarna" in reply.text


@pytest.mark.parametrize(
    ("text", "entities", "expected"),
    [
        ("how much is the mascra?", [], "costs $9.99"),
        ("is it in stock", [("product", "Samsung Galaxy S8")], "out of stock"),
        ("what warranty does the iphone x have", [], "3 months warranty"),
        ("how are the reviews", [("product", "apple airpods")], "rated 4.2 out of 5"),
        (
            "return policy?",
            [("product", "beats flex")],
            "Returns for the Beats Flex Wireless Earphones",
        ),
    ],
)
def test_product_info_answers_the_attribute_asked(
    shop: str, text: str, entities: list[tuple[str, str]], expected: str
) -> None:
    reply = call(ActionProductInfo(), text, entities=entities)
    assert expected in reply.text
    assert reply.slot("product")
    assert set(reply.cards[0]) == CARD_KEYS


def test_product_info_on_an_unknown_product_says_what_was_not_found(shop: str) -> None:
    reply = call(ActionProductInfo(), "is the flux capacitor in stock?")
    assert 'couldn\'t find a product called "flux capacitor"' in reply.text
    assert "search" in reply.text


def test_product_info_on_an_ambiguous_name_offers_choices(shop: str) -> None:
    reply = call(ActionProductInfo(), "how much is the iphone?")
    assert "Which one do you mean?" in reply.text
    assert len(reply.buttons) >= 2
    assert all("iPhone" in b["title"] for b in reply.buttons)


def test_product_search_returns_cards_best_first(shop: str) -> None:
    reply = call(ActionProductSearch(), "wireless earphones under 100")
    assert [c["title"] for c in reply.cards] == ["Beats Flex Wireless Earphones"]
    assert set(reply.cards[0]) == CARD_KEYS


@pytest.mark.parametrize(
    ("entities", "category", "max_price"),
    [
        ([("category", "kitchenware"), ("price", "under 20")], "kitchen-accessories", 20.0),
        ([("category", "laptops")], "laptops", None),
        ([("category", "ladies shoes"), ("price", "$25-$75")], "womens-shoes", 75.0),
    ],
)
def test_product_search_uses_category_and_price_entities(
    shop: str, entities: list[tuple[str, str]], category: str, max_price: float | None
) -> None:
    reply = call(ActionProductSearch(), "show me something nice", entities=entities)
    assert reply.cards
    with store.session_factory(shop)() as s:
        for card in reply.cards:
            product = s.get(Product, card["id"])
            assert product is not None and product.category == category
            assert max_price is None or product.price <= max_price


def test_product_search_with_no_match_suggests_what_to_try(shop: str) -> None:
    reply = call(ActionProductSearch(), "xyzzy frobnicator")
    assert "couldn't find" in reply.text and "category" in reply.text
    assert reply.cards == []


@pytest.mark.parametrize(
    ("text", "asked"),
    [
        ("do you sell gift cards?", "gift cards"),
        ("any garden hoses?", "garden hoses"),
        ("car tyres under $50", "car tyres"),
        ("i need a leather jacket", "leather jacket"),
        ("do you have teddy bears", "teddy bears"),
    ],
)
def test_query_for_something_not_carried_says_so(shop: str, text: str, asked: str) -> None:
    reply = call(ActionProductSearch(), text)
    assert reply.text.startswith(f"Sorry, we don't carry {asked}.")
    assert "I read" not in reply.text
    assert reply.cards == []


def test_query_with_close_products_says_they_are_the_closest(shop: str) -> None:
    reply = call(ActionProductSearch(), "leather earphones under 100")
    assert reply.text.startswith(
        "Sorry, nothing matches leather earphones up to $100.00 exactly. The closest we have:"
    )
    assert [c["title"] for c in reply.cards] == ["Beats Flex Wireless Earphones"]


def test_query_whose_category_names_the_kind_shows_the_category_and_says_so(shop: str) -> None:
    reply = call(ActionProductSearch(), "nice laptops under 1500")
    assert reply.text.startswith(
        'Here are our top-rated laptops up to $1,500.00 (no exact match for "nice"):'
    )
    assert reply.cards and all(c["price"] <= 1500 for c in reply.cards)


def test_query_carried_outside_the_budget_asks_for_a_higher_budget(shop: str) -> None:
    reply = call(ActionProductSearch(), "wireless earphones under 10")
    assert "couldn't find wireless earphones up to $10.00" in reply.text
    assert "higher budget" in reply.text and "don't carry" not in reply.text
    assert reply.cards == []


def test_product_search_with_a_typo_says_how_it_read_it(shop: str) -> None:
    reply = call(ActionProductSearch(), "how much is the mascra")
    assert "Best matches for mascara (I read: mascra → mascara)" in reply.text
    assert [c["title"] for c in reply.cards] == ["Essence Mascara Lash Princess"]


def test_product_info_on_a_product_not_carried_offers_no_random_product(shop: str) -> None:
    reply = call(ActionProductInfo(), "how much are the car tyres?")
    assert 'couldn\'t find a product called "car tyres"' in reply.text
    assert "closest" not in reply.text
    assert reply.cards == []


def test_compare_products_puts_two_products_side_by_side(shop: str) -> None:
    reply = call(ActionCompareProducts(), "compare iphone x vs samsung galaxy s8")
    assert "$899.99 vs $499.99" in reply.text
    assert "Samsung Galaxy S8 is cheaper by $400.00" in reply.text
    assert [c["title"] for c in reply.cards] == ["iPhone X", "Samsung Galaxy S8"]


def test_compare_with_one_product_asks_for_the_second(shop: str) -> None:
    reply = call(ActionCompareProducts(), "compare the matebook")
    assert "Which two products" in reply.text


def test_recommend_for_a_product_gives_similar_and_bought_together(shop: str) -> None:
    reply = call(ActionRecommendProducts(), "something like the airpods under $100")
    assert "Similar to the Apple Airpods" in reply.text
    assert "bought together" in reply.text
    assert reply.cards and all(c["price"] <= 100 for c in reply.cards)
    assert reply.slot("product") == "Apple Airpods"


def test_recommend_in_a_category_gives_top_rated_within_budget(shop: str) -> None:
    reply = call(ActionRecommendProducts(), "recommend a laptop under 1500")
    ratings = [c["rating"] for c in reply.cards]
    assert ratings and ratings == sorted(ratings, reverse=True)
    assert all(c["price"] <= 1500 for c in reply.cards)


def test_handoff_creates_a_ticket_with_redacted_summary(fresh_shop: str) -> None:
    number = first_order(fresh_shop, "delivered")
    reply = call(
        ActionHandoff(),
        f"I want a human! mail me at jo@example.com about {number}",
        slots=owner(fresh_shop, number),
    )
    assert f"about order {number}" in reply.text
    ticket = ticket_of(fresh_shop, reply)
    assert ticket.order_id == order_key(fresh_shop, number)
    assert "jo@example.com" not in ticket.summary and "[EMAIL]" in ticket.summary
    assert ticket.sender_id == SENDER


HOSTILE = [
    "'; DROP TABLE orders; --",
    'order 123456" OR "1"="1',
    "{{7*7}} ${jndi:ldap://x} <script>alert(1)</script>",
    "junk " * 2048,
    "",
]


@pytest.fixture(scope="module")
def hostile_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One store for all hostile-input tests (they must not change any order)."""
    return seed_store(f"sqlite:///{tmp_path_factory.mktemp('hostile') / 'shop.db'}")


@pytest.mark.parametrize("action", ALL_ACTIONS, ids=lambda a: a.name())
@pytest.mark.parametrize("text", HOSTILE, ids=["sql", "quotes", "templates", "10kb", "empty"])
def test_hostile_text_gets_a_reply_never_an_exception(
    hostile_url: str,
    seeded_url: str,
    monkeypatch: pytest.MonkeyPatch,
    action: Action,
    text: str,
) -> None:
    point_settings_at(monkeypatch, hostile_url)
    reply = call(action, text, entities=[("product", text[:200])] if text else [])
    assert reply.text.strip()
    assert len(reply.text) < 4000
    # Same seed, same anchor: any changed order would show up as a difference.
    assert order_snapshot(hostile_url) == order_snapshot(seeded_url)


def test_an_empty_store_with_auto_seed_off_rejects_the_action(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    point_settings_at(monkeypatch, f"sqlite:///{tmp_path / 'empty.db'}", auto_seed=False)
    with pytest.raises(ActionExecutionRejection, match="shopintent db init"):
        call(ActionPaymentMethods(), "how can I pay?")
