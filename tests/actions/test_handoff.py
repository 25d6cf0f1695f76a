"""Handoff: one open support ticket per conversation, however often the bot hands off."""

from __future__ import annotations

from sqlalchemy import select, update

from actions import store
from actions.handoff_actions import ActionHandoff, merge_summary
from actions.models import SupportTicket
from tests.actions.conftest import SENDER, call, first_order, order_key, owner, ticket_of


def tickets_of(url: str, sender: str) -> list[SupportTicket]:
    with store.session_factory(url)() as session:
        rows = list(session.scalars(select(SupportTicket).where(SupportTicket.sender_id == sender)))
        session.expunge_all()
    return rows


def test_a_second_handoff_adds_to_the_open_ticket_and_gives_the_same_reference(
    fresh_shop: str,
) -> None:
    first = call(ActionHandoff(), "I want a human, my parcel is lost")
    second = call(ActionHandoff(), "still nobody? mail me at jo@example.com")
    third = call(ActionHandoff(), "still nobody? mail me at jo@example.com")

    ticket = ticket_of(fresh_shop, first)
    assert ticket_of(fresh_shop, second).id == ticket.id
    assert ticket_of(fresh_shop, third).id == ticket.id
    assert "added this to your open request" in second.text
    assert [t.id for t in tickets_of(fresh_shop, SENDER)] == [ticket.id]
    assert ticket.summary == "I want a human, my parcel is lost\nstill nobody? mail me at [EMAIL]"


def test_each_conversation_gets_its_own_ticket(fresh_shop: str) -> None:
    mine = ticket_of(fresh_shop, call(ActionHandoff(), "a person please"))
    theirs = ticket_of(fresh_shop, call(ActionHandoff(), "a person please", sender="other"))

    assert mine.reference != theirs.reference


def test_a_closed_ticket_is_not_reopened_a_new_one_is_opened(fresh_shop: str) -> None:
    closed = ticket_of(fresh_shop, call(ActionHandoff(), "a person please"))
    with store.session_factory(fresh_shop)() as session:
        session.execute(
            update(SupportTicket).where(SupportTicket.id == closed.id).values(status="closed")
        )
        session.commit()

    again = ticket_of(fresh_shop, call(ActionHandoff(), "me again"))

    assert again.id != closed.id
    assert again.status == "open"
    assert again.summary == "me again"


def test_a_later_handoff_puts_the_order_it_knows_on_the_open_ticket(fresh_shop: str) -> None:
    number = first_order(fresh_shop, "delivered")
    first = call(ActionHandoff(), "a person please")
    second = call(ActionHandoff(), f"it is about {number}", slots=owner(fresh_shop, number))

    assert ticket_of(fresh_shop, first).order_id == order_key(fresh_shop, number)
    assert f"about order {number}" in second.text


def test_a_merged_summary_keeps_the_newest_lines_within_the_limit() -> None:
    old = "\n".join(f"old {i} " + "x" * 395 for i in range(5))  # 2,009 characters
    merged = merge_summary(old, "new line")

    assert len(merged) <= 2000
    assert merged.endswith("new line")
    assert "old 0" not in merged and "old 4" in merged
    assert merge_summary("(no message)", "hello") == "hello"
