"""Payloads that travel inside the bot, spelled as TypedDicts (rasa-sdk's habit)."""

from __future__ import annotations

from typing import Any, NotRequired, TypedDict


class IntentPrediction(TypedDict):
    """One intent and the model's confidence in it."""

    name: str
    confidence: float


class Entity(TypedDict, total=False):
    """An entity found in the message (Rasa's field names)."""

    entity: str  # the entity type, e.g. "order_id"
    value: Any  # the normalised value
    start: int  # character offset where it starts in the text
    end: int  # character offset after its last character
    extractor: str  # what found it


class ParseResult(TypedDict):
    """What `nlu.IntentClassifier.parse` returns and the tracker's latest_message holds."""

    text: str
    intent: IntentPrediction
    intent_ranking: list[IntentPrediction]
    entities: list[Entity]


class Button(TypedDict):
    """A quick-reply button; `payload` is sent back as the next message."""

    title: str
    payload: str


class BotMessage(TypedDict):
    """One message of the REST channel's answer; empty keys are left out on the wire."""

    recipient_id: str
    text: NotRequired[str]
    image: NotRequired[str]
    buttons: NotRequired[list[Button]]
    attachment: NotRequired[Any]
    custom: NotRequired[dict[str, Any]]


class ActionResult(TypedDict):
    """The action server's answer to one action call."""

    events: list[dict[str, Any]]  # Rasa events: slot, followup, restart, ...
    responses: list[dict[str, Any]]  # what the action asked the bot to say
