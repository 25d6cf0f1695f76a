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

FALLBACK_INTENT = "nlu_fallback"


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
    """

    slot: str
    ask: str
    invalid: str
    pattern: re.Pattern[str]
    valid: re.Pattern[str]


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
        slot_prompts[str(slot)] = SlotPrompt(
            slot=str(slot),
            ask=need_response(spec.get("ask"), where),
            invalid=need_response(spec.get("invalid"), where),
            pattern=_compile(str(spec.get("pattern", r"(\S+)")), where),
            valid=_compile(str(spec.get("valid", r".+")), where),
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
        raw=raw,
    )
