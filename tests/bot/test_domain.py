"""The dialogue's data: the shipped domain and policy load, and mistakes fail loudly."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.domain import load_domain
from bot.errors import DomainError
from tests.bot.conftest import DOMAIN, POLICY


def test_shipped_domain_and_policy_cover_every_intent() -> None:
    domain = load_domain(DOMAIN, POLICY)
    assert set(domain.rules) == set(domain.intents)
    assert len(domain.intents) == 38
    assert domain.rules["track_order"].form == "order_form"
    assert domain.rules["contact_human_agent"].action == "action_handoff"


@pytest.mark.parametrize("intent", ["complaint", "report_missing_package"])
def test_complaints_and_missing_parcels_get_an_apology_then_a_ticket(intent: str) -> None:
    domain = load_domain(DOMAIN, POLICY)
    rule = domain.rules[intent]
    assert rule.form is None, "the apology comes first, without asking for an order number"
    assert rule.action == domain.fallback.handoff_action == "action_handoff"
    assert rule.response is not None
    for variant in domain.responses[rule.response]:
        text = str(variant["text"]).lower()
        assert "sorry" in text, text
        assert "replace" in text and "refund" in text, text


def _write_policy(tmp_path: Path, change: dict[str, object]) -> Path:
    policy = yaml.safe_load(POLICY.read_text())
    policy.update(change)
    path = tmp_path / "policy.yml"
    path.write_text(yaml.safe_dump(policy))
    return path


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"restart_response": "utter_nope"}, "names response 'utter_nope'"),
        (
            {"fallback": {"response": "utter_did_you_mean", "handoff_action": "action_x"}},
            "names action 'action_x'",
        ),
        ({"rules": {"greet": {"response": "utter_greet"}}}, "has no rule for the intents"),
        (
            {"rules": {"fly": {"response": "utter_greet"}}},
            "'fly' is for an intent domain.yml does not list",
        ),
        (
            {
                "slot_prompts": {
                    "order_id": {
                        "ask": "utter_ask_order_id",
                        "invalid": "utter_invalid_order_id",
                        "pattern": "([",
                    }
                }
            },
            "not a valid regex",
        ),
    ],
)
def test_policy_that_does_not_fit_the_domain_is_refused(
    tmp_path: Path, change: dict[str, object], message: str
) -> None:
    with pytest.raises(DomainError, match=message.replace("(", r"\(").replace("[", r"\[")):
        load_domain(DOMAIN, _write_policy(tmp_path, change))


def test_missing_domain_file_says_how_to_fix_it(tmp_path: Path) -> None:
    with pytest.raises(DomainError, match="SHOPINTENT_DOMAIN_PATH"):
        load_domain(tmp_path / "nope.yml", POLICY)


def test_domain_that_is_not_a_mapping_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "domain.yml"
    bad.write_text("- just\n- a list\n")
    with pytest.raises(DomainError, match=r"expected .* to hold a YAML mapping, found list"):
        load_domain(bad, POLICY)
