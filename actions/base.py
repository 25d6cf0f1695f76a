"""The base of every shop action: store access, tracker helpers, and failure handling.

An action that cannot reach the store raises `ActionExecutionRejection` (the action
server answers 400 with `{"error", "action_name"}`), so the caller can fall back,
and the log says how to fix the store. Database errors during a turn become an
apology to the shopper, never a 500.
"""

from __future__ import annotations

import asyncio
import logging
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.interfaces import ActionExecutionRejection
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from actions.errors import ActionsError
from actions.orders import normalise_order_number
from actions.parsing import MAX_TEXT_CHARS, ORDER_ID_RE, extract_order_id
from actions.ranking import ProductHit
from actions.store import ready_session_factory
from core.wire import Button

logger = logging.getLogger(__name__)
EventList = list[dict[str, Any]]


@dataclass
class Turn:
    """One action call: what the shopper said, the slots, the store, and the replies."""

    dispatcher: CollectingDispatcher
    tracker: Tracker
    session: Session

    @property
    def text(self) -> str:
        """The latest user message, truncated (never None)."""
        raw = (self.tracker.latest_message or {}).get("text") or ""
        return str(raw)[: MAX_TEXT_CHARS * 4]

    def entities(self, name: str) -> list[str]:
        """Values of entity `name` in the latest message, in order, without blanks."""
        values = self.tracker.get_latest_entity_values(name)
        return [str(v).strip() for v in values if v is not None and str(v).strip()]

    def entity(self, name: str) -> str | None:
        """The first value of entity `name` in the latest message."""
        values = self.entities(name)
        return values[0] if values else None

    def slot(self, name: str) -> str | None:
        """A slot's value as text (None when unset or blank)."""
        value = self.tracker.get_slot(name)
        if value is None or isinstance(value, dict | list):
            return None
        value = str(value).strip()
        return value or None

    def order_id(self) -> str | None:
        """The order number: entity, then an order number in the text, then the slot.

        Order numbers come back in canonical form (`SI4829301746`). A number written
        after "order" that is not one is returned too, so the reply can say it was
        not found instead of asking again.
        """
        entity = self.entity("order_id")
        if entity:
            clean = entity.lstrip("#").strip()
            return normalise_order_number(clean) or clean
        strict = ORDER_ID_RE.search(self.text)
        if strict:
            return normalise_order_number(strict.group(1)) or strict.group(1)
        return self.slot("order_id") or extract_order_id(self.text)

    def say(
        self,
        text: str,
        *,
        buttons: Sequence[Button] | None = None,
        products: Sequence[ProductHit] | None = None,
    ) -> None:
        """Send a reply, with quick replies and product cards (`custom.products`)."""
        custom = {"products": [p.card() for p in products]} if products else None
        self.dispatcher.utter_message(
            text=text,
            buttons=[dict(b) for b in buttons] if buttons else None,
            json_message=custom,
        )


class ShopAction(Action, ABC):
    """An action that answers from the shop store. Subclasses set `NAME` and `handle`."""

    NAME: str = ""

    def name(self) -> str:
        """The action name the domain lists."""
        return self.NAME

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> EventList:
        """Open a session, run `handle`, commit; see the module docstring for failures.

        The store work runs in a worker thread: a slow query never holds up the action
        server's event loop, which meanwhile reads and checks the next calls.
        """
        return await asyncio.to_thread(self._run_blocking, dispatcher, tracker)

    def _run_blocking(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> EventList:
        try:
            factory = ready_session_factory()
        except ActionsError as exc:
            logger.error("%s cannot run: %s", self.name(), exc)
            raise ActionExecutionRejection(
                self.name(), f"the shop store is not available: {exc}"
            ) from exc
        with factory() as session:
            turn = Turn(dispatcher=dispatcher, tracker=tracker, session=session)
            try:
                events = self.handle(turn)
                session.commit()
            except SQLAlchemyError:
                session.rollback()
                logger.exception("%s failed on the store", self.name())
                dispatcher.utter_message(
                    text="Sorry, I couldn't reach our shop data just now. Please try again "
                    "in a minute, or ask for a person."
                )
                return []
        return events

    @abstractmethod
    def handle(self, turn: Turn) -> EventList:
        """Answer the shopper; return the events (e.g. `SlotSet`) for the tracker."""


def slot_events(**values: str | int | None) -> EventList:
    """`SlotSet` events for the given non-empty values."""
    return [SlotSet(k, str(v)) for k, v in values.items() if v is not None and v != ""]
