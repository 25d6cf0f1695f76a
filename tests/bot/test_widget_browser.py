"""The widget in headless Chromium, chatting with the live bot: guests and signed-in shoppers."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jwt
import pytest

from bot.app import create_app
from bot.settings import BotSettings
from tests.bot.conftest import (
    DOMAIN,
    POLICY,
    REPO,
    KeywordClassifier,
    LiveStack,
    serving,
    stack_running,
    watch_csp,
)

pytestmark = [pytest.mark.slow, pytest.mark.browser]

SCREENSHOT = REPO / "reports" / "screenshots" / "widget.png"
IDENTITY_SECRET = "widget-test-identity-secret-not-for-production"
ACTIONS_SECRET = "widget-test-actions-secret-not-for-production"
EXPIRED_LINE = "Your sign-in has expired"
ASKS_FOR_NUMBER = re.compile(r"(what is|what's|give me) (your|the) order number", re.IGNORECASE)
TOO_FAST_LINE = "You're sending messages very fast"


class ShopSite:
    """The shop's own web site, on another origin than the bot: serves the pages it is given.

    A real server, not a Playwright route: Chromium lets only a page it loaded from
    loopback call the bot on loopback (Private Network Access).
    """

    def __init__(self) -> None:
        pages: dict[str, tuple[str, str]] = {}

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body, csp = pages.get(self.path, (None, ""))
                self.send_response(200 if body is not None else 404)
                data = (body or "not found").encode()
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                if csp:
                    self.send_header("Content-Security-Policy", csp)
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self.pages = pages
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self._server.server_port}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def account_page(self, path: str, bot_url: str, token: str) -> str:
        """Serve the account page of a signed-in shopper at `path`; return its URL.

        The page has a strict CSP of its own that allows the bot's origin, as the
        widget's header comment tells shops to write it.
        """
        csp = (
            f"default-src 'none'; script-src {bot_url}; connect-src {bot_url}; "
            "style-src 'unsafe-inline'; img-src https: data:"
        )
        self.pages[path] = (
            f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Your account</title></head>
<body><h1>Your account</h1>
<script src="{bot_url}/widget.js" data-customer-token="{token}" data-open="true" defer></script>
</body></html>""",
            csp,
        )
        return self.origin + path

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture(scope="module")
def shop_site() -> Iterator[ShopSite]:
    site = ShopSite()
    yield site
    site.close()


@pytest.fixture(scope="module")
def signed_in_stack(
    shop_model: Path, seeded_database: str, shop_site: ShopSite
) -> Iterator[LiveStack]:
    """A signed action server and a bot that accepts the shop's sign-in tokens.

    `shopintent actions` and `shopintent serve` share `ACTIONS_SECRET`; the bot verifies
    tokens signed with `IDENTITY_SECRET` and lets the shop's site call it (CORS).
    """
    env = {
        "SHOPINTENT_DATABASE_URL": seeded_database,
        "SHOPINTENT_WEBHOOK_TOKEN": "",
        "SHOPINTENT_IDENTITY_SECRET": IDENTITY_SECRET,
        "SHOPINTENT_ACTIONS_SECRET": ACTIONS_SECRET,
    }
    with stack_running(shop_model, env, cors_origin=shop_site.origin) as stack:
        yield stack


def customer_token(customer_id: object, ttl_s: float = 900) -> str:
    """A sign-in token as the shop's backend signs it (HS256, `sub` and `exp`)."""
    claims = {"sub": str(customer_id), "exp": int(time.time() + ttl_s)}
    return jwt.encode(claims, IDENTITY_SECRET, algorithm="HS256")


def test_widget_on_the_demo_page_holds_the_demo_conversation(
    live_stack: LiveStack, chromium: Any
) -> None:
    from playwright.sync_api import expect

    from actions.store import list_orders

    order = list_orders(live_stack.database_url, status="shipped", limit=1)[0]
    page = chromium.new_page(viewport={"width": 1100, "height": 900})
    violations = watch_csp(page)
    response = page.goto(live_stack.bot_url + "/")
    assert response is not None
    assert "script-src 'self'" in response.headers["content-security-policy"]
    expect(page.get_by_role("heading", name="Northwind Goods")).to_be_visible()

    launcher = page.get_by_role("button", name="Chat with us")
    launcher.focus()
    page.keyboard.press("Enter")  # keyboard only: open, type, Enter
    box = page.get_by_label("Your message")
    expect(box).to_be_focused()
    log = page.get_by_role("log", name="Conversation")

    def send(text: str, expect_text: str | re.Pattern[str]) -> None:
        count = page.locator(".si-bot").count()
        box.fill(text)
        box.press("Enter")
        expect(page.locator(".si-bot")).not_to_have_count(count, timeout=20_000)
        expect(log).to_contain_text(expect_text, timeout=20_000)

    send("hi", "help")
    send("show me lipstick under 20 dollars", "lipstick")
    expect(page.locator(".si-card").first).to_contain_text("$")
    send("where is my order?", "order number")
    # A guest proves the order is theirs with its number and its email.
    send(str(order.id), re.compile(r"e-?mail", re.IGNORECASE))
    send(order.email, f"Order {order.id}")
    send("can I return it?", "return")
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT.with_name("widget-order.png")))
    send("what's the weather in Paris tomorrow?", "?")
    suggestions = page.get_by_role("group", name="Suggestions").last
    expect(suggestions.get_by_role("button").first).to_be_visible()
    send("talk to a human", "ticket")

    # The bot issued the conversation id; the widget keeps it for this tab.
    session = page.evaluate("window.shopintent.session()")
    assert session
    stored = page.evaluate(
        "Object.keys(sessionStorage).filter(k => k.startsWith('shopintent.session'))"
        ".map(k => JSON.parse(sessionStorage.getItem(k)).id)"
    )
    assert stored == [session]
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT))

    # A reload keeps the conversation (same session id, history replayed).
    page.reload()
    assert page.evaluate("window.shopintent.session()") == session
    page.get_by_role("button", name="Chat with us").click()
    expect(page.get_by_role("log", name="Conversation")).to_contain_text("ticket")
    page.keyboard.press("Escape")
    expect(page.get_by_role("button", name="Chat with us")).to_be_focused()
    assert violations == [], violations
    assert Path(SCREENSHOT).stat().st_size > 10_000


def test_signed_in_shopper_sees_their_orders_without_giving_a_number(
    signed_in_stack: LiveStack, shop_site: ShopSite, chromium: Any, tmp_path: Path
) -> None:
    from playwright.sync_api import Request, expect

    from actions.store import list_orders

    orders = list_orders(signed_in_stack.database_url, limit=10_000)
    by_customer: dict[str, list[str]] = {}
    for o in orders:  # newest first
        by_customer.setdefault(str(o.customer_id), []).append(str(o.id))
    customer = max(sorted(by_customer), key=lambda c: len(by_customer[c]))
    theirs = by_customer[customer][:3]
    someone_elses = next(ids[0] for c, ids in sorted(by_customer.items()) if c != customer)
    token = customer_token(customer)

    sent: list[tuple[str, dict[str, Any]]] = []

    def record(request: Request) -> None:
        if request.method == "POST" and "/webhooks/rest/" in request.url:
            sent.append((request.url.rsplit("/", 1)[-1], json.loads(request.post_data or "{}")))

    page = chromium.new_page(viewport={"width": 1100, "height": 900})
    violations = watch_csp(page)
    page.on("request", record)
    page.goto(shop_site.account_page("/account", signed_in_stack.bot_url, token))
    box = page.get_by_label("Your message")
    expect(box).to_be_focused()

    box.fill("where is my order?")
    box.press("Enter")
    reply = page.locator(".si-bot")
    expect(reply.first).to_be_visible(timeout=20_000)
    log = page.get_by_role("log", name="Conversation")
    for order_id in theirs:
        expect(log).to_contain_text(order_id, timeout=20_000)
    bot_text = " ".join(reply.all_inner_texts())
    assert not ASKS_FOR_NUMBER.search(bot_text), bot_text
    assert someone_elses not in bot_text
    assert violations == [], violations
    page.screenshot(path=str(SCREENSHOT.with_name("widget-signed-in.png")))

    # The widget asked the bot for a conversation id, then sent the token with the message.
    assert [kind for kind, _ in sent] == ["session", "webhook"], sent
    session_body, message = sent[0][1], sent[1][1]
    assert session_body == {"metadata": {"customer_token": token}}
    assert message["metadata"]["customer_token"] == token
    assert message["sender"] and message["message"] == "where is my order?"
    assert SCREENSHOT.with_name("widget-signed-in.png").stat().st_size > 10_000


def test_expired_sign_in_says_so_and_keeps_the_typed_text(
    signed_in_stack: LiveStack, shop_site: ShopSite, chromium: Any
) -> None:
    from playwright.sync_api import expect

    from actions.store import list_orders

    customer = list_orders(signed_in_stack.database_url, limit=1)[0].customer_id
    token = customer_token(customer, ttl_s=-3600)
    page = chromium.new_page(viewport={"width": 1100, "height": 900})
    page.goto(shop_site.account_page("/expired", signed_in_stack.bot_url, token))
    box = page.get_by_label("Your message")
    box.fill("where is my order?")
    box.press("Enter")

    expect(page.get_by_role("alert")).to_contain_text(EXPIRED_LINE, timeout=20_000)
    expect(box).to_have_value("where is my order?")
    expect(page.locator(".si-bot")).to_have_count(0)
    expect(page.locator(".si-user")).to_have_count(0)  # not shown as sent


@pytest.fixture
def limited_bot(tmp_path: Path, test_action_server: str) -> Iterator[str]:
    """A bot in this process (keyword classifier, no model) allowing 2 messages a minute
    per conversation; it serves the demo page and signs demo shoppers in."""
    settings = BotSettings(
        database_url=f"sqlite:///{tmp_path / 'bot.db'}",
        action_endpoint=test_action_server,
        domain_path=DOMAIN,
        policy_path=POLICY,
        model_dir=tmp_path / "no-model",
        webhook_token=None,
        identity_secret=IDENTITY_SECRET,
        conversation_rate_limit="2/minute",
    )
    with serving(create_app(settings, classifier=KeywordClassifier())) as url:
        yield url


def test_demo_page_runs_under_its_csp_and_a_429_keeps_the_typed_text(
    limited_bot: str, chromium: Any
) -> None:
    from playwright.sync_api import expect

    page = chromium.new_page(viewport={"width": 1100, "height": 900})
    violations = watch_csp(page)
    response = page.goto(limited_bot + "/")
    assert response is not None
    assert response.headers["x-content-type-options"] == "nosniff"
    # The sign-in script is /demo.js now: it runs under `script-src 'self'`.
    page.get_by_role("button", name="Sign in as demo customer").click()
    expect(page.locator("#demo-status")).to_have_text("Signed in as demo customer 1.")

    page.get_by_role("button", name="Chat with us").click()
    box = page.get_by_label("Your message")
    for _ in range(2):
        count = page.locator(".si-bot").count()
        box.fill("hello")
        box.press("Enter")
        expect(page.locator(".si-bot")).not_to_have_count(count, timeout=20_000)
    box.fill("hello, are you still there?")
    box.press("Enter")

    expect(page.get_by_role("alert")).to_contain_text(TOO_FAST_LINE, timeout=20_000)
    expect(box).to_have_value("hello, are you still there?")
    expect(page.locator(".si-user")).to_have_count(2)  # the third is not shown as sent
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT.with_name("widget-rate-limited.png")))
    assert violations == [], violations
