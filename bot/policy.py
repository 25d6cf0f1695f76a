"""The dialogue policy: what the bot says and does for one parsed message.

It follows `policy.yml`: each intent is answered with a domain response, a custom
action, or a form that first collects slots (e.g. the order number) and then
runs its action. Rejected or off-topic messages get "did you mean" buttons;
repeated fallbacks, or asking for a person, hand over to the support team.
"""

from __future__ import annotations

import json
import logging
import re
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

from bot.domain import Domain, SlotPrompt
from bot.errors import ActionServerError
from bot.tracker import Tracker
from core.wire import FALLBACK_INTENT, ActionResult, BotMessage, Button, Entity, ParseResult

logger = logging.getLogger(__name__)

RESTART_COMMAND = "/restart"
MAX_FOLLOWUPS = 3
_DIRECT_INTENT = re.compile(r"^/([A-Za-z_][\w\-]*)\s*(\{.*\})?\s*$", re.DOTALL)
_TEMPLATE_VAR = re.compile(r"\{(\w+)\}")


class ActionRunner(Protocol):
    """Anything that runs a custom action (the HTTP `ActionClient` in production)."""

    async def run(
        self, action_name: str, tracker: dict[str, Any], domain: dict[str, Any]
    ) -> ActionResult: ...


@dataclass
class TurnOutcome:
    """What one turn produced.

    Attributes:
        replies: The bot's messages, in order.
        actions: The responses and actions the policy chose, in order.
        error: Why an action failed, when one did (the shopper got an apology).
    """

    replies: list[BotMessage] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)
    error: str | None = None


def parse_direct_intent(text: str) -> ParseResult | None:
    """Read a Rasa-style direct intent such as `/track_order{"order_id": "1042"}`.

    Args:
        text: The message.

    Returns:
        A parse result with confidence 1.0, or None when the text is not a direct intent.
    """
    match = _DIRECT_INTENT.match(text.strip())
    if match is None:
        return None
    entities: list[Entity] = []
    if match.group(2):
        try:
            values = json.loads(match.group(2))
        except ValueError:
            values = {}
        if isinstance(values, dict):
            entities = [
                Entity(entity=str(k), value=v, start=0, end=len(text), extractor="direct_intent")
                for k, v in values.items()
                if isinstance(v, str | int | float)
            ]
    name = match.group(1)
    return ParseResult(
        text=text,
        intent={"name": name, "confidence": 1.0},
        intent_ranking=[{"name": name, "confidence": 1.0}],
        entities=entities,
    )


class DialoguePolicy:
    """Decides and carries out the bot's answer to one message.

    Args:
        domain: The loaded domain and policy rules.
        actions: Runs custom actions (the action server client).
        handoff_after: Fallbacks in a row before the bot hands over.
        keep_events: Events kept in the tracker.
    """

    def __init__(
        self, domain: Domain, actions: ActionRunner, handoff_after: int = 2, keep_events: int = 60
    ) -> None:
        self.domain = domain
        self.actions = actions
        self.handoff_after = handoff_after
        self.keep = keep_events
        self._server_domain = domain.as_action_server_domain()

    async def handle(
        self, tracker: Tracker, parse: ParseResult, raw_text: str | None = None
    ) -> TurnOutcome:
        """Answer one parsed message and update the tracker.

        Args:
            tracker: The conversation; updated in place.
            parse: The message's parse result (redacted text).
            raw_text: The message as typed, read only for transient slots (the guest's
                order e-mail), which go to the action server and are never stored.

        Returns:
            The replies and the actions taken. Action failures are answered with an
            apology and reported in `error`; they are never raised.
        """
        out = TurnOutcome()
        self._maybe_new_session(tracker)
        tracker.turns += 1
        tracker.add_user(parse, self.keep)
        intent = parse["intent"]["name"]
        # Transient slots come from what a shopper typed, never from a `/intent{...}` payload.
        direct = parse["text"].lstrip().startswith("/")
        raw = "" if direct else (raw_text if raw_text is not None else parse["text"])
        self._slots_from_entities(tracker, parse)

        if await self._confirm_or_drop(tracker, intent, out):
            return out

        if tracker.active_form is not None and await self._continue_active_form(
            tracker, parse, out, raw
        ):
            return out

        if self._is_fallback(intent):
            tracker.fallback_streak += 1
            if tracker.fallback_streak >= self.handoff_after:
                tracker.fallback_streak = 0
                await self._run_action(tracker, self.domain.fallback.handoff_action, out)
            else:
                self._did_you_mean(tracker, parse, out)
            return out
        tracker.fallback_streak = 0

        rule = self.domain.rules[intent]
        if rule.form is not None and rule.action is not None:
            tracker.active_form = rule.form
            tracker.pending_action = rule.action
            tracker.form_intent = intent
            self._slots_from_text(tracker, parse["text"], self.domain.forms[rule.form], raw)
            tracker.add_event({"event": "active_loop", "name": rule.form}, self.keep)
            await self._advance_form(tracker, out)
            return out
        if rule.response is not None:
            self._utter(tracker, rule.response, out)
        if rule.action is not None:
            await self._run_action(tracker, rule.action, out)
        return out

    async def _confirm_or_drop(self, tracker: Tracker, intent: str, out: TurnOutcome) -> bool:
        """Carry out or discard a change that waits for a yes; any other message drops it.

        Returns:
            True when the message was the yes or the no (the turn is done).
        """
        confirmation = self.domain.confirmation
        if confirmation is None or not tracker.slots.get(confirmation.slot):
            return False
        if intent in confirmation.affirm_intents:
            await self._run_action(tracker, confirmation.affirm_action, out)
            return True
        if intent in confirmation.deny_intents:
            await self._run_action(tracker, confirmation.deny_action, out)
            return True
        tracker.set_slot(confirmation.slot, None, self.keep)
        return False

    def _maybe_new_session(self, tracker: Tracker) -> None:
        """Start a new session after `session_expiration_time` idle minutes, as Rasa does."""
        expiry = self.domain.session_expiration_s
        if not expiry or not tracker.events:
            return
        if time.time() - float(tracker.events[-1].get("timestamp") or 0) < expiry:
            return
        self._end_form(tracker)
        tracker.fallback_streak = 0
        if not self.domain.carry_over_slots:
            tracker.slots = dict(self.domain.slots)
        tracker.add_event({"event": "session_started"}, self.keep)

    def restart(self, tracker: Tracker) -> TurnOutcome:
        """Forget the conversation (`/restart`) and say the restart response."""
        fresh = Tracker.new(tracker.sender_id, self.domain.slots)
        fresh.turns = tracker.turns + 1
        tracker.__dict__.update(fresh.__dict__)
        tracker.add_event({"event": "restart"}, self.keep)
        out = TurnOutcome()
        self._utter(tracker, self.domain.restart_response, out)
        return out

    # -- forms ---------------------------------------------------------------

    async def _continue_active_form(
        self, tracker: Tracker, parse: ParseResult, out: TurnOutcome, raw: str
    ) -> bool:
        """Handle a message that arrives while a form waits for a slot.

        Returns:
            True when the turn is done; False when the shopper changed topic and
            the message should be handled as a new request.
        """
        slot = tracker.requested_slot
        intent = parse["intent"]["name"]
        prompt = self.domain.slot_prompts.get(slot) if slot else None
        if slot is None or prompt is None:
            self._end_form(tracker)
            return False
        transient = slot in self.domain.protected.transient
        if tracker.value(slot) is None:
            bare = prompt.pattern.fullmatch((raw if transient else parse["text"]).strip())
            changes_topic = (
                intent != tracker.form_intent
                and intent in self.domain.rules
                and intent not in self.domain.form_stay_intents
                and intent != "deny"
                and not self._is_fallback(intent)
            )
            if bare is not None:
                self._fill(tracker, slot, bare.group(1))
            elif not changes_topic:
                self._slots_from_text(tracker, parse["text"], [slot], raw)
            if tracker.value(slot) is None:
                if changes_topic:
                    self._end_form(tracker)
                    return False
                if intent == "deny":
                    self._end_form(tracker)
                    self._utter(tracker, "utter_deny", out)
                    return True
                self._utter(tracker, prompt.invalid, out)
                return True
        tracker.fallback_streak = 0
        await self._advance_form(tracker, out)
        return True

    async def _advance_form(self, tracker: Tracker, out: TurnOutcome) -> None:
        """Ask for the next empty slot of the active form, or run its action."""
        if tracker.active_form is None:
            return
        slots = self.domain.forms[tracker.active_form]
        for index, slot in enumerate(slots):
            if self._skipped(tracker, self.domain.slot_prompts[slot]):
                continue
            if tracker.value(slot) is None:
                tracker.requested_slot = slot
                if self._transient_given(tracker, slots) and tracker.pending_action is not None:
                    await self._run_early(tracker, slots[:index], out)
                else:
                    self._utter(tracker, self.domain.slot_prompts[slot].ask, out)
                return
        action = tracker.pending_action
        self._end_form(tracker)
        if action is not None:
            await self._run_action(tracker, action, out)

    def _transient_given(self, tracker: Tracker, slots: list[str]) -> bool:
        """Whether this turn filled one of the form's transient slots (they last one turn)."""
        transient = self.domain.protected.transient
        return any(s in transient and tracker.transient.get(s) is not None for s in slots)

    async def _run_early(self, tracker: Tracker, answered: list[str], out: TurnOutcome) -> None:
        """Run the form's action before its last slot is known, and keep the form open.

        A transient value (the guest's order e-mail) is gone by the next message, so
        the action gets it now: it proves the order (`verified_order_id`, so the e-mail
        is not asked again) and asks for what it still needs. If it undid an answer
        (a wrong e-mail clears the order number) or ended the form, the form is over;
        its reply says why.
        """
        said = len(out.replies)
        await self._run_action(tracker, str(tracker.pending_action), out)
        if tracker.active_form is None:
            return
        for slot in answered:
            prompt = self.domain.slot_prompts[slot]
            if not self._skipped(tracker, prompt) and tracker.value(slot) is None:
                self._end_form(tracker)
                return
        requested = tracker.requested_slot
        if requested is not None and len(out.replies) == said:
            self._utter(tracker, self.domain.slot_prompts[requested].ask, out)

    @staticmethod
    def _skipped(tracker: Tracker, prompt: SlotPrompt) -> bool:
        """Whether the form need not ask for this slot (see `SlotPrompt.skip_when_*`)."""
        if any(tracker.slots.get(name) for name in prompt.skip_when_set):
            return True
        for a, b in prompt.skip_when_equal:
            left, right = tracker.slots.get(a), tracker.slots.get(b)
            if left and right and str(left).strip().upper() == str(right).strip().upper():
                return True
        return False

    def _end_form(self, tracker: Tracker) -> None:
        if tracker.active_form is not None:
            tracker.add_event({"event": "active_loop", "name": None}, self.keep)
        tracker.active_form = None
        tracker.requested_slot = None
        tracker.pending_action = None
        tracker.form_intent = None

    def _fill(self, tracker: Tracker, slot: str, value: Any) -> bool:
        prompt = self.domain.slot_prompts.get(slot)
        text = str(value).strip().lstrip("#")
        if prompt is not None and not prompt.valid.fullmatch(text):
            return False
        if slot in self.domain.protected.transient:
            tracker.transient[slot] = text  # for this turn's action call; no event, not stored
        else:
            tracker.set_slot(slot, text, self.keep)
        return True

    def _slots_from_entities(self, tracker: Tracker, parse: ParseResult) -> None:
        protected = self.domain.protected.all
        for entity in parse["entities"]:
            name = entity.get("entity")
            if name in protected:
                logger.info("ignored an entity for the protected slot %r", name)
                continue
            if name in self.domain.slots and entity.get("value") is not None:
                self._fill(tracker, str(name), entity["value"])

    def _slots_from_text(self, tracker: Tracker, text: str, slots: list[str], raw: str) -> None:
        """Pick slot values the NLU did not tag out of the text ("order SI4829301746").

        Transient slots (the order e-mail) are read from the unredacted `raw` text;
        other protected slots are never read from text.
        """
        protected = self.domain.protected
        for slot in slots:
            prompt = self.domain.slot_prompts.get(slot)
            if prompt is None or tracker.value(slot) is not None:
                continue
            transient = slot in protected.transient
            if slot in protected.all and not transient:
                continue
            for match in prompt.pattern.finditer(raw if transient else text):
                # A reference holds digits: the word "order" alone is not an order number.
                has_digit = any(ch.isdigit() for ch in match.group(1))
                if (transient or has_digit) and self._fill(tracker, slot, match.group(1)):
                    break

    # -- fallback ------------------------------------------------------------

    def _is_fallback(self, intent: str) -> bool:
        return (
            intent == FALLBACK_INTENT
            or intent in self.domain.fallback.treat_as_fallback
            or intent not in self.domain.rules
        )

    def _did_you_mean(self, tracker: Tracker, parse: ParseResult, out: TurnOutcome) -> None:
        skip = self.domain.fallback.never_suggest
        names: list[str] = []
        for candidate in parse["intent_ranking"]:
            name = candidate["name"]
            if name in self.domain.rules and name not in skip and name not in names:
                names.append(name)
            if len(names) == self.domain.fallback.suggestions:
                break
        buttons = [Button(title=self.domain.title(n), payload=f"/{n}") for n in names]
        buttons.append(
            Button(title=self.domain.title("contact_human_agent"), payload="/contact_human_agent")
        )
        fallback = self.domain.fallback
        off_topic = parse["intent"]["name"] in fallback.treat_as_fallback
        response = fallback.off_topic_response if off_topic else None
        self._utter(tracker, response or fallback.response, out, buttons=buttons)

    # -- saying and doing ----------------------------------------------------

    def _utter(
        self,
        tracker: Tracker,
        response: str,
        out: TurnOutcome,
        buttons: list[Button] | None = None,
        values: dict[str, Any] | None = None,
    ) -> None:
        variants = self.domain.responses[response]
        # Rotate through variants by turn: varied but reproducible.
        variant = dict(variants[tracker.turns % len(variants)])
        if buttons:
            variant["buttons"] = [*variant.get("buttons", []), *buttons]
        out.actions.append(response)
        tracker.add_action(response, self.keep)
        self._say(tracker, variant, out, values)

    def _say(
        self,
        tracker: Tracker,
        content: dict[str, Any],
        out: TurnOutcome,
        values: dict[str, Any] | None = None,
    ) -> None:
        message = BotMessage(recipient_id=tracker.sender_id)
        fill = {**tracker.slots, **(values or {})}
        if content.get("text"):
            message["text"] = _fill_template(str(content["text"]), fill)
        if content.get("image"):
            message["image"] = str(content["image"])
        buttons = content.get("buttons") or []
        if buttons:
            message["buttons"] = [
                Button(
                    title=_fill_template(str(b.get("title", "")), fill),
                    payload=str(b.get("payload", "")),
                )
                for b in buttons
                if isinstance(b, dict)
            ]
        if content.get("attachment"):
            message["attachment"] = content["attachment"]
        custom = content.get("custom") or {}
        if content.get("elements") and "elements" not in custom:
            custom = {**custom, "elements": content["elements"]}
        if custom:
            message["custom"] = custom
        if len(message) > 1:
            out.replies.append(message)
            tracker.add_bot(message, self.keep)

    async def _run_action(
        self, tracker: Tracker, action: str, out: TurnOutcome, depth: int = 0
    ) -> None:
        out.actions.append(action)
        try:
            result = await self.actions.run(action, tracker.to_rasa(), self._server_domain)
        except ActionServerError as exc:
            logger.warning("action %s failed for %s: %s", action, tracker.sender_id, exc)
            out.error = str(exc)
            tracker.add_action(action, self.keep)
            self._utter(tracker, self.domain.action_failed_response, out)
            return
        tracker.add_action(action, self.keep)
        followup: str | None = None
        protected = self.domain.protected
        for event in result["events"]:
            kind = event.get("event")
            if kind == "slot" and isinstance(event.get("name"), str):
                name = event["name"]
                if name in protected.bot_owned:
                    logger.warning("action %s tried to set the bot's slot %r", action, name)
                elif name in protected.transient:
                    tracker.transient[name] = event.get("value")
                else:
                    tracker.set_slot(name, event.get("value"), self.keep)
            elif kind == "reset_slots":
                for name in list(tracker.slots):
                    if name not in protected.bot_owned:
                        tracker.slots[name] = self.domain.slots.get(name)
            elif kind == "followup" and isinstance(event.get("name"), str):
                followup = event["name"]
            elif kind == "active_loop" and event.get("name") is None:
                self._end_form(tracker)
        for response in result["responses"]:
            template = response.get("response") or response.get("template")
            if isinstance(template, str) and template in self.domain.responses:
                extra = {k: v for k, v in response.items() if v not in (None, [], {}, "")}
                self._utter(tracker, template, out, values=extra)
            else:
                self._say(tracker, response, out)
        if followup is not None and depth < MAX_FOLLOWUPS:
            if followup in self.domain.responses:
                self._utter(tracker, followup, out)
            elif followup in self.domain.actions:
                await self._run_action(tracker, followup, out, depth + 1)


def _fill_template(text: str, values: dict[str, Any]) -> str:
    def sub(match: re.Match[str]) -> str:
        value = values.get(match.group(1))
        return match.group(0) if value is None else str(value)

    return _TEMPLATE_VAR.sub(sub, text)
