"""Live handoff in two headless Chromium pages: a shopper in the widget, an agent in /agent.

The bot runs under uvicorn (keyword classifier) with the real action server
(`shopintent actions` on a seeded shop database, so the ticket is a real SUP-...
reference). Screenshots of both pages go to reports/screenshots/handoff-*.png.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.app import create_app
from bot.settings import BotSettings
from tests.bot.conftest import (
    DOMAIN,
    POLICY,
    REPO,
    KeywordClassifier,
    actions_running,
    serving,
    use_review,
    watch_csp,
)

pytestmark = [pytest.mark.slow, pytest.mark.browser]

SCREENSHOTS = REPO / "reports" / "screenshots"
REVIEW_TOKEN = "browser-handoff-review-token-of-32-chars-or-more"
REPLY = "Hi, I'm Anna from the support team. I can see your ticket: what happened to the parcel?"
# Records when each agent line appears in the widget (Date.now(), same clock as the agent page).
_WATCH_ARRIVALS = """() => {
  window.__arrivals = {};
  new MutationObserver(() => {
    document.querySelectorAll('.si-agent').forEach((n) => {
      if (!(n.textContent in window.__arrivals)) window.__arrivals[n.textContent] = Date.now();
    });
  }).observe(document.body, {childList: true, subtree: true});
}"""


@pytest.fixture
def bot_url(seeded_database: str, tmp_path: Path) -> Iterator[str]:
    """`shopintent actions` on the seeded shop, and the bot under uvicorn."""
    env = {"SHOPINTENT_DATABASE_URL": seeded_database, "SHOPINTENT_AUTO_SEED": "false"}
    with actions_running(env) as actions_url:
        settings = BotSettings(
            database_url=f"sqlite:///{tmp_path / 'bot.db'}",
            action_endpoint=f"{actions_url}/webhook",
            domain_path=DOMAIN,
            policy_path=POLICY,
            model_dir=tmp_path / "no-model",
            conversation_secret="browser-handoff-conversation-secret",
            handoff_offer_email_after_s=0,
        )
        app = create_app(settings, classifier=KeywordClassifier())
        use_review(app, REVIEW_TOKEN)
        with serving(app, ready_path="/ready") as url:
            yield url


def test_a_person_answers_the_shopper_in_the_widget_and_hands_back_to_the_bot(
    bot_url: str, chromium: Any
) -> None:
    from playwright.sync_api import expect

    agent = chromium.new_context(viewport={"width": 1280, "height": 860}).new_page()
    shop = chromium.new_context(viewport={"width": 900, "height": 860}).new_page()
    agent_csp, shop_csp = watch_csp(agent), watch_csp(shop)

    # The agent logs in with the review token and keeps /agent open.
    response = agent.goto(bot_url + "/agent")
    assert response is not None and response.status == 401
    agent.get_by_label("Review token").fill(REVIEW_TOKEN)
    agent.get_by_role("button", name="Log in").click()
    agent.wait_for_url(bot_url + "/agent")
    expect(agent.locator("#live-status")).to_have_text("live", timeout=10_000)
    agent.get_by_label("Your name, as shoppers see it").fill("Anna")
    agent.get_by_label("Your name, as shoppers see it").dispatch_event("change")
    waiting = agent.get_by_role("list", name="Waiting conversations")
    expect(waiting).to_contain_text("Nobody is waiting.")

    # The shopper asks for a person in the widget.
    shop.goto(bot_url + "/")
    shop.get_by_role("button", name="Chat with us").click()
    shop.evaluate(_WATCH_ARRIVALS)
    box = shop.get_by_label("Your message")
    log = shop.get_by_role("log", name="Conversation")
    box.fill("hi")
    box.press("Enter")
    expect(shop.locator(".si-bot")).to_have_count(1, timeout=10_000)
    box.fill("I want to talk to a person please")
    box.press("Enter")
    expect(log).to_contain_text("your ticket is SUP-", timeout=10_000)
    expect(log).to_contain_text("number 1 in the queue", timeout=5_000)

    # It appears in the agent's queue without a reload.
    item = waiting.get_by_role("button").filter(has_text="asked for a person")
    expect(item).to_be_visible(timeout=5_000)
    expect(item).to_contain_text("SUP-")
    item.click()
    transcript = agent.get_by_role("log", name="Transcript")
    expect(transcript).to_contain_text("I want to talk to a person please")
    expect(transcript).to_contain_text("contact_human_agent 90%")
    expect(transcript).to_contain_text("greet 90%")

    agent.get_by_role("button", name="Claim").click()
    expect(log).to_contain_text("Anna from support has joined the chat.", timeout=5_000)
    reply_box = agent.get_by_label("Reply to the shopper")
    expect(reply_box).to_be_enabled()
    reply_box.fill(REPLY[:20])  # typing: the shopper sees it
    expect(shop.locator(".si-typing")).to_have_text("Anna is typing…", timeout=5_000)
    reply_box.fill(REPLY)
    sent_at = agent.evaluate("Date.now()")
    reply_box.press("Enter")
    expect(shop.locator(".si-agent").last).to_have_text(REPLY, timeout=5_000)
    arrived_at = shop.evaluate("(t) => window.__arrivals[t]", REPLY)
    delay_ms = arrived_at - sent_at
    assert delay_ms < 1000, f"the reply took {delay_ms} ms to reach the widget"
    expect(shop.locator(".si-agent-name").last).to_have_text("Anna from support")
    expect(shop.locator(".si-typing")).to_have_count(0)

    # The shopper answers; the agent sees it live, with the model's intent.
    box.fill("It says delivered but there is nothing at my door")
    box.press("Enter")
    expect(transcript).to_contain_text(
        "It says delivered but there is nothing at my door", timeout=5_000
    )
    expect(agent.locator("#chat-meta")).to_contain_text("state: with agent")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    agent.screenshot(path=str(SCREENSHOTS / "handoff-agent.png"), full_page=True)
    shop.screenshot(path=str(SCREENSHOTS / "handoff-widget.png"))

    # Released: the bot answers the next message again.
    agent.get_by_role("button", name="Release to bot").click()
    expect(log).to_contain_text("Anna has handed you back", timeout=5_000)
    expect(agent.get_by_role("list", name="Conversations with an agent")).to_contain_text("None.")
    bots = shop.locator(".si-bot").count()
    box.fill("hi")
    box.press("Enter")
    expect(shop.locator(".si-bot")).to_have_count(bots + 1, timeout=10_000)
    greeting = shop.locator(".si-bot").last.text_content() or ""
    assert "shop assistant" in greeting or "How can I help" in greeting, greeting
    live: dict[str, Any] = shop.evaluate("window.shopintent.live()")
    assert live["state"] == "bot" and live["streaming"] is False
    assert agent_csp == [] and shop_csp == [], agent_csp + shop_csp
    for name in ("handoff-agent.png", "handoff-widget.png"):
        assert (SCREENSHOTS / name).stat().st_size > 10_000
