"""The demo shop page in headless Chromium: the widget chats with the live bot."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.bot.conftest import REPO, LiveStack

pytestmark = [pytest.mark.slow, pytest.mark.browser]

SCREENSHOT = REPO / "reports" / "screenshots" / "widget.png"


@pytest.fixture(scope="module")
def chromium_path() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.skip("Debian's chromium is not installed (apt-get install -y chromium)")
    return path


def test_widget_on_the_demo_page_holds_the_demo_conversation(
    live_stack: LiveStack, chromium_path: str
) -> None:
    from playwright.sync_api import expect, sync_playwright

    from actions.store import list_orders

    order = list_orders(live_stack.database_url, status="shipped", limit=1)[0]
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=chromium_path,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 900})
            page.goto(live_stack.bot_url + "/")
            expect(page.get_by_role("heading", name="Northwind Goods")).to_be_visible()

            launcher = page.get_by_role("button", name="Chat with us")
            launcher.focus()
            page.keyboard.press("Enter")  # keyboard only: open, type, Enter
            box = page.get_by_label("Your message")
            expect(box).to_be_focused()
            log = page.get_by_role("log", name="Conversation")

            def send(text: str, expect_text: str) -> None:
                count = page.locator(".si-bot").count()
                box.fill(text)
                box.press("Enter")
                expect(page.locator(".si-bot")).not_to_have_count(count, timeout=20_000)
                expect(log).to_contain_text(expect_text, timeout=20_000)

            send("hi", "help")
            send("show me lipstick under 20 dollars", "lipstick")
            expect(page.locator(".si-card").first).to_contain_text("$")
            send("where is my order?", "order number")
            send(str(order.id), f"Order {order.id}")
            send("can I return it?", "return")
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOT.with_name("widget-order.png")))
            send("what's the weather in Paris tomorrow?", "?")
            suggestions = page.get_by_role("group", name="Suggestions").last
            expect(suggestions.get_by_role("button").first).to_be_visible()
            send("talk to a human", "ticket")

            session = page.evaluate("localStorage.getItem('shopintent.session')")
            assert session
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOT))

            # A reload keeps the conversation (same session id, history replayed).
            page.reload()
            assert page.evaluate("localStorage.getItem('shopintent.session')") == session
            page.get_by_role("button", name="Chat with us").click()
            expect(page.get_by_role("log", name="Conversation")).to_contain_text("ticket")
            page.keyboard.press("Escape")
            expect(page.get_by_role("button", name="Chat with us")).to_be_focused()
        finally:
            browser.close()
    assert Path(SCREENSHOT).stat().st_size > 10_000
