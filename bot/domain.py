"""The dialogue's data: Rasa's `domain.yml` plus the bot's `policy.yml` rules.

`domain.yml` says what the bot can recognise, remember and say (intents, slots,
responses, actions, forms); `policy.yml` says what it does for each intent. Both
are read once at start-up and checked against each other, so a typo in a response
or action name fails loudly at start-up instead of mid-conversation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.errors import DomainError


@dataclass(frozen=True)
class Rule:
    """What the bot does when it recognises one intent.

    Attributes:
        intent: The intent the rule is for.
        response: A domain response (`utter_*`) to say, or None.
        action: A custom action to run on the action server, or None.
        form: A domain form whose required slots are collected before `action` runs.
    """

    intent: str
    response: str | None = None
    action: str | None = None
    form: str | None = None


@dataclass(frozen=True)
class SlotPrompt:
    """How a form asks for one slot and recognises a typed answer.

    Attributes:
        slot: The slot's name.
        ask: Response that asks for the value.
        invalid: Response said when the answer is not a valid value.
        pattern: Regex with one group that pulls the value out of a message.
        valid: Regex the whole (extracted) value must match.
        skip_when_set: The form does not ask when one of these slots has a value
            (a signed-in shopper is not asked for an order number).
        skip_when_equal: The form does not ask when, for a pair `(a, b)`, slots `a`
            and `b` hold the same value (a guest who proved an order is not asked again).
    """

    slot: str
    ask: str
    invalid: str
    pattern: re.Pattern[str]
    valid: re.Pattern[str]
    skip_when_set: tuple[str, ...] = ()
    skip_when_equal: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class ProtectedSlots:
    """Slots a shopper can never set: no NLU entity, `/intent{...}` or message text fills them.

    Attributes:
        identity: Set by the bot on every turn from the verified sign-in token.
        client: Set by the bot on every turn: a keyed hash of the client address.
        set_by_actions: Only the action server's events may set these.
        transient: Sent to the action server for one call and never stored (the
            guest's order e-mail, read from the unredacted message).
    """

    identity: str | None = None
    client: str | None = None
    set_by_actions: frozenset[str] = frozenset()
    transient: frozenset[str] = frozenset()

    @property
    def bot_owned(self) -> frozenset[str]:
        """Slots only the bot itself sets."""
        return frozenset(s for s in (self.identity, self.client) if s is not None)

    @property
    def all(self) -> frozenset[str]:
        """Every protected slot."""
        return self.bot_owned | self.set_by_actions | self.transient


@dataclass(frozen=True)
class Confirmation:
    """A change waits for an explicit yes: while `slot` is set, yes and no run these actions.

    Any other message drops the waiting change, so a later "yes" to something else
    never carries it out.
    """

    slot: str
    affirm_intents: frozenset[str]
    affirm_action: str
    deny_intents: frozenset[str]
    deny_action: str


@dataclass(frozen=True)
class FallbackConfig:
    """What the bot does with messages it did not understand."""

    response: str
    suggestions: int
    handoff_action: str
    never_suggest: frozenset[str]
    treat_as_fallback: frozenset[str]
    # Said instead of `response` when the model called the message off-topic.
    off_topic_response: str | None = None


@dataclass
class Domain:
    """The loaded domain and policy. Build it with `load_domain`.

    Attributes:
        intents: Every intent the model may predict (plus `nlu_fallback`).
        slots: Slot names and their initial values.
        responses: Response name -> list of variants (Rasa's response dicts).
        actions: Custom action names served by the action server.
        forms: Form name -> required slot names.
        rules: Intent -> rule.
        slot_prompts: Slot -> how forms ask for it.
        fallback: Fallback settings.
        action_failed_response: Said when an action call fails.
        restart_response: Said after `/restart`.
        intent_titles: Human-readable intent names for suggestion buttons.
        form_stay_intents: Intents that never interrupt an active form.
        protected: Slots the shopper cannot set, and who may.
        confirmation: How a change that waits for a yes is confirmed, or None.
        raw: The domain file as loaded; sent to the action server.
    """

    intents: list[str]
    slots: dict[str, Any]
    responses: dict[str, list[dict[str, Any]]]
    actions: list[str]
    forms: dict[str, list[str]]
    rules: dict[str, Rule]
    slot_prompts: dict[str, SlotPrompt]
    fallback: FallbackConfig
    action_failed_response: str
    restart_response: str
    intent_titles: dict[str, str]
    form_stay_intents: frozenset[str]
    protected: ProtectedSlots = field(default_factory=ProtectedSlots)
    confirmation: Confirmation | None = None
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def session_expiration_s(self) -> float:
        """Idle seconds after which a new session starts (domain `session_config`; 0: never)."""
        config = self.raw.get("session_config") or {}
        return float(config.get("session_expiration_time", 0) or 0) * 60

    @property
    def carry_over_slots(self) -> bool:
        """Whether slots survive into a new session (domain `session_config`)."""
        config = self.raw.get("session_config") or {}
        return bool(config.get("carry_over_slots_to_new_session", True))

    def title(self, intent: str) -> str:
        """Return the button title for an intent (its configured title or a readable name)."""
        return self.intent_titles.get(intent, intent.replace("_", " ").capitalize())

    def as_action_server_domain(self) -> dict[str, Any]:
        """Return the domain in the shape Rasa sends to an action server."""
        return {
            "config": {"store_entities_as_slots": True},
            "session_config": self.raw.get("session_config", {}),
            "intents": list(self.intents),
            "entities": list(self.raw.get("entities", [])),
            "slots": dict(self.raw.get("slots", {})),
            "responses": self.responses,
            "actions": list(self.actions),
            "forms": {name: {"required_slots": slots} for name, slots in self.forms.items()},
            "e2e_actions": [],
        }


def _read_yaml(path: Path, what: str) -> dict[str, Any]:
    if not path.is_file():
        raise DomainError(
            f"expected the {what} file at {path}, but it does not exist; "
            f"set SHOPINTENT_{'DOMAIN' if what == 'domain' else 'POLICY'}_PATH or run from the repository root"
        )
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise DomainError(f"{path} is not valid YAML: {exc}; fix the syntax") from exc
    if not isinstance(data, dict):
        raise DomainError(
            f"expected {path} to hold a YAML mapping, found {type(data).__name__}; "
            "see training_data/ for the format"
        )
    return data


def _intent_names(raw: list[Any]) -> list[str]:
    names: list[str] = []
    for item in raw:
        if isinstance(item, str):
            names.append(item)
        elif isinstance(item, dict) and len(item) == 1:
            names.append(str(next(iter(item))))
        else:
            raise DomainError(f"expected an intent name or {{name: {{...}}}}, found {item!r}")
    return names


def _responses(raw: dict[str, Any], path: Path) -> dict[str, list[dict[str, Any]]]:
    responses: dict[str, list[dict[str, Any]]] = {}
    for name, variants in raw.items():
        if not isinstance(variants, list) or not variants:
            raise DomainError(
                f"expected response {name!r} in {path} to be a non-empty list of variants, "
                f"found {variants!r}"
            )
        for variant in variants:
            if not isinstance(variant, dict) or not (
                {"text", "image", "buttons", "custom", "attachment"} & set(variant)
            ):
                raise DomainError(
                    f"expected each variant of {name!r} in {path} to have text, image, "
                    f"buttons, custom or attachment, found {variant!r}"
                )
        responses[str(name)] = [dict(v) for v in variants]
    return responses


def _initial_slots(raw: dict[str, Any]) -> dict[str, Any]:
    slots: dict[str, Any] = {}
    for name, spec in raw.items():
        slots[str(name)] = spec.get("initial_value") if isinstance(spec, dict) else None
    return slots


def _compile(pattern: str, where: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern, re.IGNORECASE)
    except re.error as exc:
        raise DomainError(f"{where}: {pattern!r} is not a valid regex ({exc})") from exc


def load_domain(domain_path: Path, policy_path: Path) -> Domain:
    """Load `domain.yml` and `policy.yml` and check that they fit together.

    Args:
        domain_path: The Rasa domain file.
        policy_path: The bot's rules file.

    Returns:
        The loaded `Domain`.

    Raises:
        DomainError: A file is missing or invalid, or the policy names an intent,
            response, action, form or slot the domain does not define.
    """
    raw = _read_yaml(domain_path, "domain")
    policy = _read_yaml(policy_path, "policy")

    intents = _intent_names(raw.get("intents") or [])
    responses = _responses(raw.get("responses") or {}, domain_path)
    actions = [str(a) for a in raw.get("actions") or []]
    forms = {
        str(name): [str(s) for s in (spec or {}).get("required_slots", [])]
        for name, spec in (raw.get("forms") or {}).items()
    }
    slots = _initial_slots(raw.get("slots") or {})
    problems: list[str] = []

    def need_response(name: object, where: str) -> str:
        if not isinstance(name, str) or name not in responses:
            problems.append(f"{where} names response {name!r}, which domain.yml does not define")
        return str(name)

    def need_action(name: object, where: str) -> str:
        if not isinstance(name, str) or name not in actions:
            problems.append(f"{where} names action {name!r}, which domain.yml does not list")
        return str(name)

    rules: dict[str, Rule] = {}
    for intent, spec in (policy.get("rules") or {}).items():
        where = f"policy rule {intent!r}"
        if intent not in intents:
            problems.append(f"{where} is for an intent domain.yml does not list")
        if not isinstance(spec, dict) or not ({"response", "action"} & set(spec)):
            problems.append(f"{where} needs a `response` or an `action`, found {spec!r}")
            continue
        form = spec.get("form")
        if form is not None and form not in forms:
            problems.append(f"{where} names form {form!r}, which domain.yml does not define")
        rules[str(intent)] = Rule(
            intent=str(intent),
            response=need_response(spec["response"], where) if "response" in spec else None,
            action=need_action(spec["action"], where) if "action" in spec else None,
            form=str(form) if form is not None else None,
        )
    missing = [i for i in intents if i not in rules]
    if missing:
        problems.append(f"policy.yml has no rule for the intents {missing}")

    slot_prompts: dict[str, SlotPrompt] = {}
    for slot, spec in (policy.get("slot_prompts") or {}).items():
        where = f"slot prompt {slot!r}"
        if slot not in slots:
            problems.append(f"{where} is for a slot domain.yml does not define")
        spec = spec or {}
        skip_set = [str(x) for x in spec.get("skip_when_set") or []]
        skip_equal = [(str(a), str(b)) for a, b in (spec.get("skip_when_equal") or {}).items()]
        for name in [*skip_set, *(n for pair in skip_equal for n in pair)]:
            if name not in slots:
                problems.append(f"{where} skips on slot {name!r}, which domain.yml does not define")
        slot_prompts[str(slot)] = SlotPrompt(
            slot=str(slot),
            ask=need_response(spec.get("ask"), where),
            invalid=need_response(spec.get("invalid"), where),
            pattern=_compile(str(spec.get("pattern", r"(\S+)")), where),
            valid=_compile(str(spec.get("valid", r".+")), where),
            skip_when_set=tuple(skip_set),
            skip_when_equal=tuple(skip_equal),
        )
    for form, required in forms.items():
        for slot in required:
            if slot not in slot_prompts:
                problems.append(f"form {form!r} requires slot {slot!r}, which has no slot prompt")

    fb = policy.get("fallback") or {}
    fallback = FallbackConfig(
        response=need_response(fb.get("response"), "fallback"),
        suggestions=int(fb.get("suggestions", 2)),
        handoff_action=need_action(fb.get("handoff_action"), "fallback"),
        never_suggest=frozenset(fb.get("never_suggest") or []),
        treat_as_fallback=frozenset(fb.get("treat_as_fallback") or []),
        off_topic_response=(
            need_response(fb["off_topic_response"], "fallback.off_topic_response")
            if fb.get("off_topic_response")
            else None
        ),
    )
    ps = policy.get("protected_slots") or {}
    protected = ProtectedSlots(
        identity=str(ps["identity"]) if ps.get("identity") else None,
        client=str(ps["client"]) if ps.get("client") else None,
        set_by_actions=frozenset(str(x) for x in ps.get("set_by_actions") or []),
        transient=frozenset(str(x) for x in ps.get("transient") or []),
    )
    for name in protected.all:
        if name not in slots:
            problems.append(f"protected slot {name!r} is not a slot domain.yml defines")
    confirmation = None
    if policy.get("confirmation"):
        cf = policy["confirmation"]
        yes, no = cf.get("affirm") or {}, cf.get("deny") or {}
        if cf.get("slot") not in protected.set_by_actions:
            problems.append(
                f"confirmation slot {cf.get('slot')!r} must be one of protected_slots.set_by_actions"
            )
        confirmation = Confirmation(
            slot=str(cf.get("slot")),
            affirm_intents=frozenset(yes.get("intents") or []),
            affirm_action=need_action(yes.get("action"), "confirmation.affirm"),
            deny_intents=frozenset(no.get("intents") or []),
            deny_action=need_action(no.get("action"), "confirmation.deny"),
        )
    action_failed = need_response(policy.get("action_failed_response"), "action_failed_response")
    restart = need_response(policy.get("restart_response"), "restart_response")
    if problems:
        raise DomainError(
            f"{policy_path} does not fit {domain_path}:\n  - "
            + "\n  - ".join(problems)
            + "\nadd the missing names to domain.yml or fix the policy"
        )
    return Domain(
        intents=intents,
        slots=slots,
        responses=responses,
        actions=actions,
        forms=forms,
        rules=rules,
        slot_prompts=slot_prompts,
        fallback=fallback,
        action_failed_response=action_failed,
        restart_response=restart,
        intent_titles={str(k): str(v) for k, v in (policy.get("intent_titles") or {}).items()},
        form_stay_intents=frozenset(policy.get("form_stay_intents") or []),
        protected=protected,
        confirmation=confirmation,
        raw=raw,
    )
