"""The action server's side: the new address comes in a transient slot; tickets are redacted."""

from __future__ import annotations

from actions.handoff_actions import ActionHandoff
from actions.order_actions import ActionChangeShippingAddress
from tests.actions.conftest import NEW_ADDRESS, call, first_order, owner, ticket_of


def test_the_address_change_reads_the_transient_slot_when_the_text_is_redacted(
    shop: str,
) -> None:
    number = first_order(shop, "paid")
    # What the bot sends: the redacted message, and the typed address in `new_address`.
    reply = call(
        ActionChangeShippingAddress(),
        f"change the address of order {number} to [ADDRESS], Springfield, IL [POSTCODE]",
        slots={**owner(shop, number), "new_address": f"{NEW_ADDRESS} please"},
    )
    assert "Please confirm" in reply.text and "Springfield, IL 62704" in reply.text
    assert reply.slot("pending_change")


def test_a_redacted_address_is_never_taken_for_the_new_one(shop: str) -> None:
    number = first_order(shop, "paid")
    reply = call(
        ActionChangeShippingAddress(),
        f"change the address of order {number} to [ADDRESS], Springfield, IL [POSTCODE]",
        slots=owner(shop, number),
    )
    assert "What's the new address" in reply.text
    assert reply.slot("pending_change") is None


def test_too_late_to_change_ends_the_bots_address_form(shop: str) -> None:
    number = first_order(shop, "shipped")
    reply = call(
        ActionChangeShippingAddress(),
        f"change the address of order {number}",
        slots={**owner(shop, number), "new_address": NEW_ADDRESS},
    )
    assert "can't change the address" in reply.text
    assert {"event": "active_loop", "name": None} in [
        {k: e.get(k) for k in ("event", "name")} for e in reply.events
    ]


def test_a_handoff_ticket_keeps_no_birth_date_password_or_address(fresh_shop: str) -> None:
    number = first_order(fresh_shop, "delivered")
    text = (
        f"I need a person about {number}. I'm Ann Lee, born 04/07/1988, my password is "
        "Hunter2! and I live at 12 Oak Street, Springfield, IL 62704"
    )
    reply = call(ActionHandoff(), text, slots=owner(fresh_shop, number))
    summary = ticket_of(fresh_shop, reply).summary
    for secret in ["Ann Lee", "04/07/1988", "Hunter2!", "12 Oak Street", "62704"]:
        assert secret not in summary
    for placeholder in ["[NAME]", "[DOB]", "[SECRET]", "[ADDRESS]", "[POSTCODE]"]:
        assert placeholder in summary
    assert number in summary
