"""One message in, the bot's replies out: redact, classify, lock, decide, store."""

from __future__ import annotations

import asyncio
import functools
import logging
import time
import weakref
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from bot.domain import Domain
from bot.model import ModelProvider
from bot.policy import RESTART_COMMAND, DialoguePolicy, TurnOutcome, parse_direct_intent
from bot.store import Held, TranscriptStore, TurnRecord
from bot.tracker import Tracker
from core.wire import FALLBACK_INTENT, BotMessage, ParseResult
from privacy import install_log_redaction, redact, redact_value

if TYPE_CHECKING:
    from bot.handoff import HandoffService
    from bot.handoff.store import HandoffRow

logger = logging.getLogger(__name__)
# Slots stored as they are: the bot's and the actions' protected slots (ids, tokens) and
# the order number, which the dialogue needs verbatim. Transient slots are never stored.
_ORDER_NUMBER_SLOTS = frozenset({"order_id"})
# Set by the handoff action (a protected slot): the support ticket's reference.
HANDOFF_TICKET_SLOT = "handoff_ticket"


@dataclass(frozen=True)
class Caller:
    """Who sent a message, as the bot verified it (never as the client claims).

    Attributes:
        customer_id: The signed-in shopper's id from a verified token, or None (guest).
        client_ref: A keyed hash of the client address, for rate limits, or None.
    """

    customer_id: str | None = None
    client_ref: str | None = None


class ChatService:
    """Handles shopper messages; shared by all requests of one bot process.

    Args:
        domain: The loaded domain and policy.
        policy: The dialogue policy (holds the action client).
        model: The NLU model provider (batches, follows the registry).
        store: The tracker and transcript store.
        handoffs: The live handoff (None: a handoff only opens a ticket). While a
            conversation is with the team, its messages go there instead of the policy.
    """

    def __init__(
        self,
        domain: Domain,
        policy: DialoguePolicy,
        model: ModelProvider,
        store: TranscriptStore,
        handoffs: HandoffService | None = None,
    ) -> None:
        self.domain = domain
        self.policy = policy
        self.model = model
        self.store = store
        self.handoffs = handoffs
        protected = domain.protected
        self._keep_slots = (protected.all - protected.transient) | _ORDER_NUMBER_SLOTS
        # The bot's process logs through uvicorn's handlers, configured before the app
        # starts: from here on every record they emit is redacted too.
        install_log_redaction()
        # One asyncio lock per live conversation; dropped when no request holds it.
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    def _lock_for(self, sender_id: str) -> asyncio.Lock:
        lock = self._locks.get(sender_id)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[sender_id] = lock
        return lock

    async def _classify(self, text: str) -> tuple[ParseResult, str | None]:
        try:
            return await self.model.parse(text), None
        except Exception as exc:
            logger.exception("classifying a message failed")
            fallback = ParseResult(
                text=text,
                intent={"name": FALLBACK_INTENT, "confidence": 0.0},
                intent_ranking=[],
                entities=[],
            )
            return fallback, f"classifier failed: {exc!r}"

    def _apply_caller(self, tracker: Tracker, caller: Caller) -> None:
        """Set the bot-owned slots from the verified caller; a new identity forgets proofs."""
        protected = self.domain.protected
        identity = protected.identity
        if identity is not None and tracker.slots.get(identity) != caller.customer_id:
            # Someone else (or a guest) now: nothing proven or pending carries over.
            for name in protected.set_by_actions:
                tracker.slots[name] = self.domain.slots.get(name)
            tracker.slots[identity] = caller.customer_id
        if protected.client is not None:
            tracker.transient[protected.client] = caller.client_ref

    def _save_redacted(self, held: Held, tracker: Tracker, record: TurnRecord) -> None:
        """Redact what is stored, then save the turn (blocking: run it in a worker thread).

        The replies may hold what an action looked up (a shipping address) and the
        tracker keeps them in its events; the error may quote the action server. The
        same strings recur (the parse data three times, each reply twice): each is
        redacted once per turn, through a cache that lives only as long as this call.
        """
        texts = functools.cache(redact)
        value = functools.partial(redact_value, text=texts)
        stored = replace(
            record,
            parse_data=value(record.parse_data),
            replies=[value(r, keep_keys={"recipient_id"}) for r in record.replies],
            error=texts(record.error) if record.error else None,
        )
        self.store.save(held, tracker.to_stored_state(value, self._keep_slots), stored)

    async def handle(
        self, sender_id: str, message: str, caller: Caller | None = None
    ) -> list[BotMessage]:
        """Answer one message and store the turn.

        Personal data is redacted before the text is classified, stored or sent to
        the action server; only transient slots (the e-mail a guest gives to prove an
        order, the new address of an order) are read from the typed text, for that
        turn's action call, and never stored. What is stored (the turn, the bot's
        replies, the tracker state) is redacted again; the shopper gets the replies as
        the dialogue wrote them. Messages of one conversation are handled one at a time,
        in order, also across worker processes (a lock in the database).

        Args:
            sender_id: The conversation id (already validated).
            message: The shopper's text (already validated).
            caller: Who sent it, verified by the web layer (default: an anonymous guest).

        Returns:
            The bot's messages for the REST channel.

        Raises:
            StoreError: The database failed or the conversation stayed locked too long.
        """
        started = time.perf_counter()
        text = redact(message)
        restart = text.strip() == RESTART_COMMAND
        lock = self._lock_for(sender_id)
        # asyncio.Lock is FIFO: a sender's messages keep their arrival order from here on.
        async with lock:
            parse = parse_direct_intent(text)
            error: str | None = None
            direct = parse is not None  # `/intent` messages skip the model
            if parse is None:
                parse, error = await self._classify(text)
            held = await asyncio.to_thread(self.store.acquire, sender_id)
            try:
                tracker = (
                    Tracker.from_state(held.state)
                    if held.state
                    else Tracker.new(sender_id, self.domain.slots)
                )
                self._apply_caller(tracker, caller or Caller())
                handoff = (
                    await self.handoffs.active(sender_id) if self.handoffs is not None else None
                )
                if handoff is not None and self.handoffs is not None:
                    if not restart:
                        return await self._forward(
                            self.handoffs, held, tracker, handoff, parse, message, error, started
                        )
                    await self.handoffs.end_for_shopper(handoff)  # `/restart` leaves the queue
                try:
                    if restart:
                        outcome = self.policy.restart(tracker)
                    else:
                        outcome = await self.policy.handle(tracker, parse, raw_text=message)
                except Exception as exc:
                    # A bug in a response or an odd action answer must not lose the message.
                    logger.exception("the dialogue failed for %s", sender_id)
                    outcome = TurnOutcome(error=f"dialogue failed: {exc!r}")
                    text_variants = self.domain.responses[self.domain.action_failed_response]
                    outcome.replies.append(
                        BotMessage(
                            recipient_id=sender_id, text=str(text_variants[0].get("text", ""))
                        )
                    )
                record = TurnRecord(
                    text=text,
                    parse_data=dict(parse),
                    model_version=None if direct else self.model.version,
                    actions=outcome.actions,
                    replies=list(outcome.replies),
                    error=error or outcome.error,
                    latency_ms=(time.perf_counter() - started) * 1000,
                )
                notice: list[BotMessage] = []
                if (
                    self.handoffs is not None
                    and self.domain.fallback.handoff_action in outcome.actions
                ):
                    ticket = tracker.slots.get(HANDOFF_TICKET_SLOT)
                    try:
                        notice = await self.handoffs.open(
                            sender_id, parse, str(ticket) if ticket else None, held.seq
                        )
                    except Exception:
                        # The ticket is open either way; the bot keeps answering meanwhile.
                        logger.exception("could not put %s in the live queue", sender_id)
                await asyncio.to_thread(self._save_redacted, held, tracker, record)
            except BaseException:
                await asyncio.to_thread(self.store.release, held)
                raise
        return [*outcome.replies, *notice]

    async def _forward(
        self,
        handoffs: HandoffService,
        held: Held,
        tracker: Tracker,
        handoff: HandoffRow,
        parse: ParseResult,
        message: str,
        error: str | None,
        started: float,
    ) -> list[BotMessage]:
        """Store a message of a conversation that is with the team; the policy never sees it.

        The turn is stored as every turn is (redacted, with the model's intent), with no
        action; the tracker is left as it was, so the bot picks up where it handed over.
        """
        direct = parse["text"].lstrip().startswith("/")
        replies = await handoffs.forward(handoff, parse, message, held.seq)
        record = TurnRecord(
            text=parse["text"],
            parse_data=dict(parse),
            model_version=None if direct else self.model.version,
            actions=[],
            replies=list(replies),
            error=error,
            latency_ms=(time.perf_counter() - started) * 1000,
        )
        await asyncio.to_thread(self._save_redacted, held, tracker, record)
        return replies
