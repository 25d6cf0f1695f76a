"""Payloads that travel between the packages, spelled as TypedDicts (Rasa's shapes).

The model (`nlu`) returns a `ParseResult`; the bot keeps it as the tracker's
`latest_message`, sends it to the action server inside the tracker, and answers the
shopper with `BotMessage`s; an action call comes back as an `ActionResult`.
"""

from __future__ import annotations

from typing import Any, NotRequired, TypedDict

FALLBACK_INTENT = "nlu_fallback"
"""The intent of a message the model rejected (unsure, or out of scope)."""

OOS_LABEL = "out_of_scope"
"""The training label of out-of-scope examples (and the review verdict that adds one)."""


class IntentScore(TypedDict):
    """One intent and the model's calibrated confidence in it."""

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
    """What `nlu.IntentClassifier.parse` returns and the tracker's `latest_message` holds."""

    text: str
    intent: IntentScore
    intent_ranking: list[IntentScore]
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
