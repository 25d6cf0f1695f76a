"""The actions called directly (CollectingDispatcher + Tracker) on seeded stores."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from rasa_sdk import Action
from rasa_sdk.interfaces import ActionExecutionRejection
from sqlalchemy import select

from actions import store
from actions.handoff_actions import ActionHandoff
from actions.models import Product, Refund, SupportTicket
from actions.order_actions import (
    ActionCancelOrder,
    ActionChangeShippingAddress,
    ActionInvoice,
    ActionOrderStatus,
    ActionRefundStatus,
)
from actions.policy_actions import ActionDeliveryOptions, ActionPaymentMethods, ActionReturnPolicy
from actions.product_actions import (
    ActionCompareProducts,
    ActionProductInfo,
    ActionProductSearch,
    ActionRecommendProducts,
)
from tests.actions.conftest import (
    DOMAIN_ACTIONS,
    call,
    first_order,
    load_order,
    order_key,
    order_snapshot,
    point_settings_at,
    seed_store,
)

ALL_ACTIONS: list[Action] = [
    ActionOrderStatus(),
    ActionCancelOrder(),
    ActionChangeShippingAddress(),
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


def test_every_domain_action_has_an_implementation() -> None:
    assert sorted(a.name() for a in ALL_ACTIONS) == sorted(DOMAIN_ACTIONS)


def test_order_status_of_a_shipped_order_gives_carrier_and_tracking(shop: str) -> None:
    order_id = first_order(shop, "shipped")
    reply = call(ActionOrderStatus(), f"where is my order {order_id}?")
    assert f"Order {order_id}" in reply.text
    assert "shipped on" in reply.text
    assert re.search(r"tracking number [A-Z0-9]{8,}", reply.text)
    assert reply.slot("order_id") == str(order_id)


def test_order_status_reads_the_order_id_from_the_slot(shop: str) -> None:
    order_id = first_order(shop, "delivered")
    reply = call(ActionOrderStatus(), "where is it?", slots={"order_id": str(order_id)})
    assert f"Order {order_id}" in reply.text
    assert "delivered on" in reply.text


def test_order_status_prefers_the_entity_over_an_old_slot(shop: str) -> None:
    old, new = first_order(shop, "delivered"), first_order(shop, "paid")
    reply = call(
        ActionOrderStatus(),
        "and this one?",
        entities=[("order_id", str(new))],
        slots={"order_id": str(old)},
    )
    assert f"Order {new}" in reply.text


@pytest.mark.parametrize(
    ("text", "entities", "expected"),
    [
        ("where is order 999999", [], "couldn't find an order with the number 999999"),
        ("track my order", [("order_id", "42")], "Order numbers have 6 digits"),
        ("where is my order?", [], "What's your order number?"),
    ],
)
def test_order_status_without_a_known_order_explains_what_to_do(
    shop: str, text: str, entities: list[tuple[str, str]], expected: str
) -> None:
    reply = call(ActionOrderStatus(), text, entities=entities)
    assert expected in reply.text
    assert reply.events == []


def test_cancel_on_a_shipped_order_refuses_and_says_why(fresh_shop: str) -> None:
    order_id = first_order(fresh_shop, "shipped")
    reply = call(ActionCancelOrder(), f"cancel order {order_id}")
    assert "can't cancel" in reply.text
    assert "already shipped" in reply.text
    assert "only be cancelled before they ship" in reply.text
    with store.session_factory(fresh_shop)() as s:
        assert load_order(s, order_id).status == "shipped"


def test_cancel_on_a_paid_order_cancels_refunds_and_then_reports_already_cancelled(
    fresh_shop: str,
) -> None:
    order_id = first_order(fresh_shop, "paid")
    first = call(ActionCancelOrder(), "please cancel it", entities=[("order_id", str(order_id))])
    assert f"order {order_id} is cancelled" in first.text
    assert "refunded" in first.text
    with store.session_factory(fresh_shop)() as s:
        order = load_order(s, order_id)
        assert order.status == "cancelled" and order.cancelled_at is not None
        refunds = s.scalars(select(Refund).where(Refund.order_id == order.id)).all()
        assert [r.amount for r in refunds] == [order.total]
    second = call(ActionCancelOrder(), f"cancel {order_id}")
    assert "already cancelled" in second.text


def test_cancel_on_a_placed_order_says_nothing_was_charged(fresh_shop: str) -> None:
    order_id = first_order(fresh_shop, "placed")
    reply = call(ActionCancelOrder(), f"cancel {order_id}")
    assert "haven't been charged" in reply.text


def test_change_address_before_shipping_updates_the_order(fresh_shop: str) -> None:
    order_id = first_order(fresh_shop, "paid")
    reply = call(
        ActionChangeShippingAddress(),
        f"change the address of order {order_id} to 42 Baker Street, London NW1",
    )
    assert "42 Baker Street, London NW1" in reply.text
    with store.session_factory(fresh_shop)() as s:
        assert load_order(s, order_id).shipping_address == "42 Baker Street, London NW1"


def test_change_address_without_an_address_asks_for_it(shop: str) -> None:
    order_id = first_order(shop, "paid")
    reply = call(ActionChangeShippingAddress(), f"I need to change the address for {order_id}")
    assert "What's the new address" in reply.text


def test_change_address_after_shipping_is_refused(shop: str) -> None:
    order_id = first_order(shop, "shipped")
    reply = call(
        ActionChangeShippingAddress(), f"change address of {order_id} to 1 Main St, Springfield"
    )
    assert "can't change the address" in reply.text
    assert "tracking number" in reply.text


def test_invoice_of_a_paid_order_gives_its_number(shop: str) -> None:
    order_id = first_order(shop, "delivered")
    reply = call(ActionInvoice(), f"invoice for {order_id}")
    assert "INV-" in reply.text and str(order_id) in reply.text


def test_invoice_can_be_found_by_its_number(shop: str) -> None:
    order_id = first_order(shop, "delivered")
    with store.session_factory(shop)() as s:
        order = load_order(s, order_id)
        assert order.invoice is not None
        number = order.invoice.number
    reply = call(ActionInvoice(), f"I need invoice {number}", entities=[("invoice_id", number)])
    assert f"The invoice for order {order_id} is {number}" in reply.text


def test_unknown_invoice_number_says_what_they_look_like(shop: str) -> None:
    reply = call(ActionInvoice(), "send me invoice #00108", entities=[("invoice_id", "#00108")])
    assert "couldn't find an invoice numbered #00108" in reply.text
    assert "INV-" in reply.text


def test_invoice_of_an_unpaid_order_explains_why_there_is_none(shop: str) -> None:
    order_id = first_order(shop, "placed")
    reply = call(ActionInvoice(), f"invoice for {order_id}")
    assert "has no invoice" in reply.text


def test_refund_status_of_a_refunded_order_lists_the_refund(shop: str) -> None:
    order_id = first_order(shop, "refunded")
    reply = call(ActionRefundStatus(), f"where is my refund for {order_id}")
    assert "completed on" in reply.text


def test_return_policy_for_an_order_lists_each_product(shop: str) -> None:
    order_id = first_order(shop, "delivered")
    with store.session_factory(shop)() as s:
        titles = [line.product.title for line in load_order(s, order_id).lines]
    reply = call(ActionReturnPolicy(), f"can I return order {order_id}?")
    for title in titles:
        assert title in reply.text


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
    order_id = first_order(fresh_shop, "delivered")
    reply = call(ActionHandoff(), f"I want a human! mail me at jo@example.com about {order_id}")
    reference = re.search(r"SUP-[0-9A-F]{6}", reply.text)
    assert reference
    with store.session_factory(fresh_shop)() as s:
        ticket = s.scalars(
            select(SupportTicket).where(SupportTicket.reference == reference.group(0))
        ).one()
    assert ticket.order_id == order_key(fresh_shop, order_id)
    assert "jo@example.com" not in ticket.summary and "[EMAIL]" in ticket.summary
    assert ticket.sender_id == "shopper-1"


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
