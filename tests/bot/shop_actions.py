"""Custom actions for the bot's tests, served by a real rasa-sdk action server.

They answer from a small in-memory order table so the bot's tests do not depend
on the real action server's database; the end-to-end tests use the real one.
"""

from __future__ import annotations

import time
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

ORDERS = {"1042": "shipped", "2001": "processing"}
ORDER_EMAIL = "ann@example.com"  # the e-mail on every test order
SLOW_ORDER = "999"  # sleeps past the bot's timeout in the resilience tests


class OrderStatus(Action):
    """Answers the status of the order in the `order_id` slot."""

    def name(self) -> str:
        return "action_order_status"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        order_id = tracker.get_slot("order_id")
        if order_id == SLOW_ORDER:
            time.sleep(2.0)
        status = ORDERS.get(str(order_id))
        # A guest proves the order with its e-mail, which reaches us for this call only.
        proved = (
            tracker.get_slot("customer_id")
            or tracker.get_slot("order_email") == ORDER_EMAIL
            or tracker.get_slot("verified_order_id") == order_id
        )
        if status is None or not proved:
            dispatcher.utter_message(text=f"I can't find order {order_id} with that e-mail.")
            return [SlotSet("order_id", None), SlotSet("order_email", None)]
        dispatcher.utter_message(text=f"Order {order_id} is {status}.")
        return [SlotSet("order_status", status), SlotSet("verified_order_id", order_id)]


class ReturnPolicy(Action):
    """Answers the return policy, for the order in the slot when there is one."""

    def name(self) -> str:
        return "action_return_policy"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        order_id = tracker.get_slot("order_id")
        suffix = f" for order {order_id}" if order_id else ""
        dispatcher.utter_message(text=f"Returns within 30 days{suffix}.")
        return []


class ProductSearch(Action):
    """Echoes the text it received, so tests can see what reached the action server."""

    def name(self) -> str:
        return "action_product_search"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        text = tracker.latest_message.get("text", "")
        dispatcher.utter_message(
            text=f"Results for: {text}",
            json_message={"products": [{"id": 1, "title": "Red Shoe", "price": 49.5}]},
        )
        return []


class Handoff(Action):
    """Opens a (pretend) ticket and returns its reference."""

    def name(self) -> str:
        return "action_handoff"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        dispatcher.utter_message(text=f"I've opened ticket T-{len(tracker.events):04d} for you.")
        return [SlotSet("ticket_id", "T-1")]


class Crash(Action):
    """Raises, so the server answers 500."""

    def name(self) -> str:
        return "action_payment_methods"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        raise RuntimeError("boom")
