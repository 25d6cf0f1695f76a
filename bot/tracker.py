"""The state of one conversation, and its Rasa tracker form for the action server."""

from __future__ import annotations

import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field, fields
from typing import Any

from core.wire import BotMessage, ParseResult

# Event fields that name things (the event kind, a slot, an action), never hold what was said.
_EVENT_NAME_FIELDS = frozenset({"event", "name", "timestamp", "policy", "input_channel"})


@dataclass
class Tracker:
    """What the bot remembers about one conversation between turns.

    Attributes:
        sender_id: The conversation's id (the REST channel's `sender`).
        slots: Slot values.
        events: Recent Rasa events (user, bot, action, slot), oldest first.
        active_form: The form collecting slots, or None.
        requested_slot: The slot the form asked for, or None.
        pending_action: The action the form runs once its slots are filled.
        form_intent: The intent that started the form.
        fallback_streak: Fallbacks in a row; reaching the limit hands over.
        latest_message: The latest parse result.
        latest_action_name: The latest action run.
        turns: Turns handled so far.
        transient: Slot values for this turn's action calls only (the guest's order
            e-mail, the new address, the client ref); never stored, never in the events.
        redacted_events: How many of the first events were redacted when they were
            stored (`to_stored_state`), so each event is redacted once.
    """

    sender_id: str
    slots: dict[str, Any] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    active_form: str | None = None
    requested_slot: str | None = None
    pending_action: str | None = None
    form_intent: str | None = None
    fallback_streak: int = 0
    latest_message: ParseResult | None = None
    latest_action_name: str = "action_listen"
    turns: int = 0
    transient: dict[str, Any] = field(default_factory=dict)
    redacted_events: int = 0

    @classmethod
    def new(cls, sender_id: str, initial_slots: dict[str, Any]) -> Tracker:
        """Return a fresh tracker with the domain's initial slot values."""
        return cls(sender_id=sender_id, slots=dict(initial_slots))

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Tracker:
        """Rebuild a tracker from what `to_state` stored."""
        known = set(cls.__dataclass_fields__) - {"transient"}
        return cls(**{k: v for k, v in state.items() if k in known})

    def to_state(self) -> dict[str, Any]:
        """Return the tracker as a JSON-serialisable dict for the store (no transient values).

        The lists and dicts are new, the events and values in them are the tracker's own
        (not deep-copied: `dataclasses.asdict` copying every event cost the bot 8 ms of
        CPU per turn); treat them as read-only.
        """
        state = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "transient"}
        state["slots"] = dict(self.slots)
        state["events"] = list(self.events)
        return state

    def to_stored_state(
        self, redact: Callable[[Any], Any], keep_slots: Collection[str] = ()
    ) -> dict[str, Any]:
        """The state to store: `to_state` with personal data redacted.

        Message texts and parse data in the events and the latest message, bot replies
        and slot values all pass `redact`; the values of `keep_slots` (the protected
        slots and the order number, which the dialogue needs as they are) do not.
        Events that came from the store were redacted when they were stored and are
        not redacted again (a state stored before redaction existed is, once).
        The tracker itself is not changed, so this turn's dialogue goes on as typed.

        Args:
            redact: Redacts a JSON-like value (`privacy.redact_value`).
            keep_slots: Slots whose values are stored as they are.

        Returns:
            A JSON-serialisable dict for the store.
        """
        state = self.to_state()
        state["slots"] = {
            name: value if name in keep_slots else redact(value)
            for name, value in state["slots"].items()
        }
        done = min(self.redacted_events, len(state["events"]))
        state["events"] = state["events"][:done] + [
            _redacted_event(e, redact, keep_slots) for e in state["events"][done:]
        ]
        state["redacted_events"] = len(state["events"])
        state["latest_message"] = redact(state["latest_message"])
        return state

    def value(self, name: str) -> Any:
        """A slot's value for this turn: the transient value first, then the stored slot."""
        if self.transient.get(name) is not None:
            return self.transient[name]
        return self.slots.get(name)

    def add_event(self, event: dict[str, Any], keep: int) -> None:
        """Append a Rasa event (timestamp added) and keep only the `keep` latest."""
        self.events.append({**event, "timestamp": event.get("timestamp") or time.time()})
        if len(self.events) > keep:
            dropped = len(self.events) - keep
            del self.events[:dropped]
            self.redacted_events = max(0, self.redacted_events - dropped)

    def set_slot(self, name: str, value: Any, keep: int) -> None:
        """Set a slot and record the slot event."""
        self.slots[name] = value
        self.add_event({"event": "slot", "name": name, "value": value}, keep)

    def add_user(self, parse: ParseResult, keep: int) -> None:
        """Record the shopper's message."""
        self.latest_message = parse
        self.add_event(
            {
                "event": "user",
                "text": parse["text"],
                "parse_data": dict(parse),
                "input_channel": "rest",
            },
            keep,
        )

    def add_action(self, name: str, keep: int) -> None:
        """Record that an action ran."""
        self.latest_action_name = name
        self.add_event({"event": "action", "name": name, "policy": "policy.yml"}, keep)

    def add_bot(self, message: BotMessage, keep: int) -> None:
        """Record what the bot said."""
        data = {k: v for k, v in message.items() if k not in ("recipient_id", "text")}
        self.add_event({"event": "bot", "text": message.get("text"), "data": data}, keep)

    def to_rasa(self) -> dict[str, Any]:
        """Return the tracker in the shape Rasa sends to an action server."""
        latest = self.latest_message or {
            "text": "",
            "intent": {"name": "", "confidence": 0.0},
            "intent_ranking": [],
            "entities": [],
        }
        return {
            "sender_id": self.sender_id,
            "slots": {
                **self.slots,
                **{k: v for k, v in self.transient.items() if v is not None},
                "requested_slot": self.requested_slot,
            },
            "latest_message": dict(latest),
            "latest_event_time": self.events[-1]["timestamp"] if self.events else None,
            "followup_action": None,
            "paused": False,
            "events": list(self.events),
            "latest_input_channel": "rest",
            "active_loop": {"name": self.active_form} if self.active_form else {},
            "latest_action": {"action_name": self.latest_action_name},
            "latest_action_name": self.latest_action_name,
        }


def _redacted_event(
    event: dict[str, Any], redact: Callable[[Any], Any], keep_slots: Collection[str]
) -> dict[str, Any]:
    if event.get("event") == "slot" and event.get("name") in keep_slots:
        return dict(event)
    return {k: v if k in _EVENT_NAME_FIELDS else redact(v) for k, v in event.items()}
