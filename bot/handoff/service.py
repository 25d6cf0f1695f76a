"""The live handoff's behaviour: open, forward, claim, reply, release, close, offer e-mail.

`HandoffService` is shared by the requests of one bot worker. The chat service asks it
whether a conversation is with the team (`active`) and, if so, hands it the shopper's
message (`forward`) instead of running the dialogue policy; agents' routes call `claim`,
`reply`, `release` and `close`. What the bot says here comes from the domain's responses
(`utter_handoff_*`), so it is edited with the rest of the bot's words.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from bot.domain import Domain
from bot.errors import DomainError
from bot.handoff.live import LiveHub, stop_task
from bot.handoff.models import EmailState, State
from bot.handoff.store import (
    QUEUE_TOPIC,
    HandoffRow,
    HandoffStore,
    MessageRow,
    OutMessage,
    Transcript,
    conv_topic,
)
from bot.store import TranscriptStore
from core.wire import FALLBACK_INTENT, BotMessage, Button, ParseResult

logger = logging.getLogger(__name__)

T = TypeVar("T")

# The domain's responses the handoff says (training_data/domain.yml).
WAITING = "utter_handoff_waiting"
JOINED = "utter_handoff_joined"
RELEASED = "utter_handoff_released"
CLOSED = "utter_handoff_closed"
OFFER_EMAIL = "utter_handoff_offer_email"
EMAIL_SAVED = "utter_handoff_email_saved"
EMAIL_DECLINED = "utter_handoff_email_declined"
RESPONSES = (WAITING, JOINED, RELEASED, CLOSED, OFFER_EMAIL, EMAIL_SAVED, EMAIL_DECLINED)
# The transient slot (policy.yml `protected_slots.transient`) whose slot prompt asks for
# and recognises the shopper's e-mail: read from the typed text, stored on the handoff only.
EMAIL_SLOT = "contact_email"

# Why a conversation was handed over, by the intent of the message that did it.
REASON_OF_INTENT = {
    "contact_human_agent": "asked_for_person",
    "complaint": "complaint",
    "report_missing_package": "missing_parcel",
}
REASON_LABELS = {
    "asked_for_person": "asked for a person",
    "fallbacks": "the bot did not understand twice",
    "complaint": "complaint",
    "missing_parcel": "missing parcel",
    "other": "other (e.g. failed order look-ups)",
}
DEFAULT_AGENT = "Support"
_TEMPLATE_VAR = re.compile(r"\{(\w+)\}")


def _fill(text: str, values: dict[str, Any]) -> str:
    def sub(match: re.Match[str]) -> str:
        value = values.get(match.group(1))
        return match.group(0) if value is None else str(value)

    return _TEMPLATE_VAR.sub(sub, text)


def say_wait(seconds: float) -> str:
    """An expected wait in words: "under a minute", "about 3 minutes"."""
    if seconds < 60:
        return "under a minute"
    minutes = round(seconds / 60)
    return "about 1 minute" if minutes == 1 else f"about {minutes} minutes"


def shopper_state(handoff: HandoffRow | None) -> str:
    """The conversation's state as the shopper's stream reports it: waiting, with_agent, bot."""
    return handoff.state if handoff is not None and handoff.is_open else "bot"


def wire_message(row: MessageRow) -> dict[str, Any]:
    """A handoff message as streams and the poll route send it."""
    out: dict[str, Any] = {
        "seq": row.seq,
        "from": row.author,
        "text": row.text,
        "at": row.created_at.isoformat(),
    }
    if row.agent:
        out["agent"] = row.agent
    if row.data.get("buttons"):
        out["buttons"] = row.data["buttons"]
    return out


@dataclass(frozen=True)
class CannedReply:
    """A domain response an agent can send with one click."""

    name: str
    text: str


class HandoffService:
    """The live handoff of one bot worker.

    Args:
        store: The handoff tables.
        hub: Wake-ups across workers.
        domain: The loaded domain (responses, the e-mail slot prompt, fallback intents).
        transcripts: The transcript store, whose conversation lock release and close take,
            so a message is either forwarded or answered by the bot, never both.
        offer_email_after_s: Seconds a handoff waits unclaimed before the shopper is
            offered a reply by e-mail (0: never).

    Raises:
        DomainError: The domain lacks a handoff response or the e-mail slot prompt.
    """

    def __init__(
        self,
        store: HandoffStore,
        hub: LiveHub,
        domain: Domain,
        transcripts: TranscriptStore,
        *,
        offer_email_after_s: float = 120.0,
    ) -> None:
        problems = [f"response {name!r}" for name in RESPONSES if name not in domain.responses]
        if EMAIL_SLOT not in domain.slot_prompts:
            problems.append(f"slot prompt {EMAIL_SLOT!r} (policy.yml slot_prompts)")
        if EMAIL_SLOT not in domain.protected.transient:
            problems.append(f"{EMAIL_SLOT!r} in policy.yml protected_slots.transient")
        if problems:
            raise DomainError(
                "live handoff needs " + ", ".join(problems) + " in training_data; add them "
                "(see docs/handoff.md) or set SHOPINTENT_HANDOFF_LIVE=false"
            )
        self.store = store
        self.hub = hub
        self.domain = domain
        self.transcripts = transcripts
        self.offer_email_after_s = offer_email_after_s
        confirmation = domain.confirmation
        self._yes = confirmation.affirm_intents if confirmation else frozenset({"affirm"})
        self._no = confirmation.deny_intents if confirmation else frozenset({"deny"})
        self._sweeper: asyncio.Task[None] | None = None

    # -- lifecycle ---------------------------------------------------------------

    async def start(self) -> None:
        """Start the hub and the e-mail offer sweeper."""
        await self.hub.start()
        if self.offer_email_after_s > 0:
            self._sweeper = asyncio.create_task(self._offer_loop(), name="handoff-email-offers")

    async def aclose(self) -> None:
        """Stop the sweeper and the hub."""
        await stop_task(self._sweeper)
        self._sweeper = None
        await self.hub.aclose()

    async def _run(self, work: Callable[..., T], *args: Any) -> T:
        return await asyncio.to_thread(work, *args)

    async def _then_publish(self, topics: tuple[str, ...], result: Awaitable[T]) -> T:
        value = await result
        await self.hub.publish(topics)
        return value

    # -- words ---------------------------------------------------------------------

    def render(self, response: str, values: dict[str, Any] | None = None) -> OutMessage:
        """A bot message from a domain response, `{placeholders}` filled from `values`."""
        variant = self.domain.responses[response][0]
        data: dict[str, Any] = {}
        buttons = [
            {
                "title": _fill(str(b.get("title", "")), values or {}),
                "payload": str(b.get("payload")),
            }
            for b in variant.get("buttons") or []
            if isinstance(b, dict)
        ]
        if buttons:
            data["buttons"] = buttons
        return OutMessage(
            author="bot", text=_fill(str(variant.get("text", "")), values or {}), data=data
        )

    def canned_replies(self) -> list[CannedReply]:
        """The domain's responses with text, for agents (the handoff's own left out)."""
        own = {*RESPONSES, self.domain.action_failed_response, self.domain.restart_response}
        out: list[CannedReply] = []
        for name, variants in sorted(self.domain.responses.items()):
            if name in own:
                continue
            for variant in variants[:1]:
                if variant.get("text"):
                    out.append(CannedReply(name, str(variant["text"])))
        return out

    def bot_message(self, row: MessageRow, handoff: HandoffRow) -> BotMessage:
        """A stored bot message as a REST channel reply; `custom.handoff` says where it is."""
        message = BotMessage(recipient_id=handoff.sender_id, text=row.text)
        if row.data.get("buttons"):
            message["buttons"] = [
                Button(title=b["title"], payload=b["payload"]) for b in row.data["buttons"]
            ]
        message["custom"] = {
            "handoff": {"id": handoff.id, "state": shopper_state(handoff), "seq": row.seq}
        }
        return message

    # -- the shopper's side ----------------------------------------------------------

    def reason_of(self, intent: str) -> str:
        """Why the message with this intent handed the conversation over."""
        fallback = self.domain.fallback
        if (
            intent == FALLBACK_INTENT
            or intent in fallback.treat_as_fallback
            or intent not in self.domain.rules
        ):
            return "fallbacks"
        return REASON_OF_INTENT.get(intent, "other")

    async def active(self, sender_id: str) -> HandoffRow | None:
        """The conversation's open handoff, if any."""
        return await self._run(self.store.active, sender_id)

    async def open(
        self, sender_id: str, parse: ParseResult, ticket: str | None, turn_seq: int
    ) -> list[BotMessage]:
        """Put the conversation in the queue; returns the bot's notice (place and wait).

        Call it with the conversation's lock held, from the turn that ran the handoff action.
        """
        intent = parse["intent"]["name"]

        def notice(handoff: HandoffRow, position: int, wait_s: float) -> OutMessage:
            return self.render(
                WAITING,
                {"position": position, "wait": say_wait(wait_s), "ticket": ticket or ""},
            )

        handoff, row = await self._then_publish(
            (conv_topic(sender_id), QUEUE_TOPIC),
            self._run(
                lambda: self.store.open(
                    sender_id,
                    reason=self.reason_of(intent),
                    intent=intent,
                    ticket=ticket,
                    turn_seq=turn_seq,
                    notice=notice,
                )
            ),
        )
        logger.info("conversation handed to the team: handoff %s (%s)", handoff.id, handoff.reason)
        return [self.bot_message(row, handoff)]

    async def forward(
        self,
        handoff: HandoffRow,
        parse: ParseResult,
        raw_text: str,
        turn_seq: int,
    ) -> list[BotMessage]:
        """Give a shopper's message to the team instead of the policy.

        The message is stored (redacted) with the model's intent. Answers to the e-mail
        offer are handled here: consent, then the address, read from the typed text for
        the handoff row only (the turn and the handoff message hold `[EMAIL]`).

        Args:
            handoff: The conversation's open handoff (read with its lock held).
            parse: The redacted message's parse result.
            raw_text: The message as typed; read only for the e-mail address.
            turn_seq: The turn the message is stored as.

        Returns:
            The bot's replies (only while the e-mail fallback asks something).
        """
        intent = parse["intent"]["name"]
        direct = parse["text"].lstrip().startswith("/")
        shopper = OutMessage(
            author="shopper",
            text=parse["text"],
            intent=intent,
            confidence=parse["intent"].get("confidence"),
            turn_seq=turn_seq,
        )
        rows = await self._run(self.store.add, handoff, [shopper])
        replies: list[OutMessage] = []
        state: EmailState | None = None
        email: str | None = None
        prompt = self.domain.slot_prompts[EMAIL_SLOT]
        if handoff.email_state == "offered":
            if intent in self._yes:
                state, replies = "asked", [self.render(prompt.ask)]
            elif intent in self._no:
                state, replies = "declined", [self.render(EMAIL_DECLINED)]
        elif handoff.email_state == "asked":
            found = None if direct else prompt.pattern.search(raw_text)
            value = found.group(1).strip() if found else ""
            if value and prompt.valid.fullmatch(value):
                state, email, replies = "given", value, [self.render(EMAIL_SAVED)]
            elif intent in self._no:
                state, replies = "declined", [self.render(EMAIL_DECLINED)]
            else:
                replies = [self.render(prompt.invalid)]
        if state is not None:
            rows += await self._run(self.store.set_email, handoff, state, replies, email)
            topics: tuple[str, ...] = (conv_topic(handoff.sender_id), QUEUE_TOPIC)
        else:
            if replies:
                rows += await self._run(self.store.add, handoff, replies)
            topics = (conv_topic(handoff.sender_id),)
        await self.hub.publish(topics)
        return [self.bot_message(r, handoff) for r in rows if r.author == "bot"]

    async def end_for_shopper(self, handoff: HandoffRow) -> None:
        """The shopper started over (`/restart`): the handoff closes, the bot answers."""
        await self._then_publish(
            (conv_topic(handoff.sender_id), QUEUE_TOPIC),
            self._run(self.store.end, handoff.id, "closed", "shopper", lambda _h: None),
        )

    # -- the team's side ---------------------------------------------------------------

    async def in_states(self, states: tuple[str, ...]) -> list[HandoffRow]:
        """Handoffs in these states, oldest first."""
        return await self._run(self.store.in_states, states)

    async def transcript(self, handoff_id: int) -> Transcript:
        """A handoff with the conversation so far."""
        return await self._run(self.store.transcript, handoff_id)

    async def claim(self, handoff_id: int, agent: str) -> HandoffRow:
        """An agent takes a waiting handoff; the shopper hears who joined.

        Raises:
            HandoffNotFoundError: No such handoff.
            HandoffConflictError: It was claimed already or has ended.
        """
        handoff, _row = await self._run(
            self.store.claim, handoff_id, agent, lambda h: self.render(JOINED, {"agent": h.agent})
        )
        await self.hub.publish((conv_topic(handoff.sender_id), QUEUE_TOPIC))
        return handoff

    async def reply(self, handoff_id: int, text: str) -> MessageRow:
        """The claiming agent writes to the shopper.

        Raises:
            HandoffNotFoundError: No such handoff.
            HandoffConflictError: Nobody claimed it, or it has ended.
        """
        handoff, row = await self._run(self.store.reply, handoff_id, text)
        await self.hub.publish((conv_topic(handoff.sender_id),))
        return row

    async def typing(self, handoff_id: int) -> None:
        """The agent is typing."""
        handoff = await self._run(self.store.typing, handoff_id)
        await self.hub.publish((conv_topic(handoff.sender_id),))

    async def release(self, handoff_id: int) -> HandoffRow:
        """Hand the conversation back to the bot (the ticket stays with the team)."""
        return await self._end(handoff_id, "released", RELEASED)

    async def close(self, handoff_id: int) -> HandoffRow:
        """End the handoff as done; the bot answers the next message."""
        return await self._end(handoff_id, "closed", CLOSED)

    async def _end(self, handoff_id: int, state: State, response: str) -> HandoffRow:
        handoff = await self._run(self.store.get, handoff_id)
        # With the conversation's lock: a message in flight is forwarded or answered, not both.
        held = await self._run(self.transcripts.acquire, handoff.sender_id)
        try:
            ended, _row = await self._run(
                self.store.end,
                handoff_id,
                state,
                "agent",
                lambda h: self.render(response, {"agent": h.agent or DEFAULT_AGENT}),
            )
        finally:
            await self._run(self.transcripts.release, held)
        await self.hub.publish((conv_topic(ended.sender_id), QUEUE_TOPIC))
        return ended

    # -- no agent online -----------------------------------------------------------

    async def offer_due_emails(self, now: datetime | None = None) -> int:
        """Offer a reply by e-mail on each handoff waiting longer than the setting.

        Returns:
            How many offers this worker made (another worker may have made the rest).
        """
        cutoff = (now or datetime.now(UTC)) - timedelta(seconds=self.offer_email_after_s)
        made = 0
        for handoff_id in await self._run(self.store.offers_due, cutoff):
            row = await self._run(
                self.store.offer_email, handoff_id, lambda _h: self.render(OFFER_EMAIL)
            )
            if row is not None:
                made += 1
                await self.hub.publish((conv_topic(row.sender_id), QUEUE_TOPIC))
        return made

    async def _offer_loop(self) -> None:
        every = min(max(self.offer_email_after_s / 4, 0.2), 5.0)
        while True:
            await asyncio.sleep(every)
            try:
                await self.offer_due_emails()
            except Exception:
                logger.exception("offering e-mail replies failed; trying again in %.1f s", every)
