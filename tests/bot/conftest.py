"""Fixtures for the bot's tests: a real rasa-sdk action server, apps on temporary databases."""

from __future__ import annotations

import re
import shutil
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from bot.app import create_app
from bot.review.settings import ReviewSettings, get_review_settings
from bot.settings import BotSettings
from bot.store import TurnRecord
from core.wire import ParseResult
from tests.conftest import free_port, running, wait_for

REPO = Path(__file__).resolve().parents[2]
DOMAIN = REPO / "training_data" / "domain.yml"
POLICY = REPO / "training_data" / "policy.yml"
WEBHOOK_TOKEN = "test-webhook-token"
IDENTITY_SECRET = "test-identity-secret-of-32-characters"
GUEST_EMAIL = "ann@example.com"
# The local PostgreSQL test database (the `postgres` tests skip when it is not running).
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def turn_record(text: str) -> TurnRecord:
    """A stored turn for `text`: a greeting the bot answered, as the store tests save it."""
    return TurnRecord(
        text=text,
        parse_data={"text": text, "intent": {"name": "greet", "confidence": 0.9}},
        model_version="m1",
        actions=["utter_greet"],
        replies=[{"recipient_id": "s", "text": "hi"}],
        error=None,
        latency_ms=1.0,
    )


@pytest.fixture(scope="session")
def test_action_server() -> Iterator[str]:
    """A real rasa-sdk action server with the test actions of `shop_actions.py`; yields its webhook URL."""
    port = free_port()
    cmd = [
        sys.executable,
        "-m",
        "rasa_sdk",
        "--actions",
        "tests.bot.shop_actions",
        "--port",
        str(port),
    ]
    with running(cmd, f"http://127.0.0.1:{port}/health"):
        yield f"http://127.0.0.1:{port}/webhook"


class KeywordClassifier:
    """A rule-based stand-in for the NLU model in the webhook unit tests.

    It returns real parse results (Rasa's shape) from keyword rules, so the HTTP
    layer, dialogue and store are tested without fine-tuning a model; the
    end-to-end tests use the real model (`shop_model`).
    """

    version = "keywords-1"
    RULES: tuple[tuple[str, str], ...] = (
        ("human", "contact_human_agent"),
        ("person", "contact_human_agent"),
        ("cancel", "cancel_order"),
        ("where is my order", "track_order"),
        ("track", "track_order"),
        ("return", "check_refund_policy"),
        ("shoes", "product_search"),
        ("find", "product_search"),
        ("pay", "check_payment_methods"),
        ("hello", "greet"),
        ("hi", "greet"),
        ("thanks", "thank_you"),
        ("no", "deny"),
    )

    def __init__(self) -> None:
        self.seen: list[str] = []

    def parse(self, text: str) -> ParseResult:
        self.seen.append(text)
        lowered = text.lower()
        words = set(lowered.replace("?", " ").replace("!", " ").split())
        for key, intent in self.RULES:
            if (" " in key and key in lowered) or key in words:
                ranking = [
                    {"name": intent, "confidence": 0.9},
                    {"name": "greet", "confidence": 0.05},
                ]
                return ParseResult(
                    text=text,
                    intent={"name": intent, "confidence": 0.9},
                    intent_ranking=ranking,  # type: ignore[typeddict-item]
                    entities=[],
                )
        ranking = [
            {"name": "out_of_scope", "confidence": 0.4},
            {"name": "track_order", "confidence": 0.3},
            {"name": "product_search", "confidence": 0.2},
        ]
        return ParseResult(
            text=text,
            intent={"name": "nlu_fallback", "confidence": 0.6},
            intent_ranking=ranking,  # type: ignore[typeddict-item]
            entities=[],
        )


@pytest.fixture
def bot_settings(tmp_path: Path, test_action_server: str) -> BotSettings:
    """Settings for an app on a fresh SQLite file that talks to the test action server."""
    return BotSettings(
        database_url=f"sqlite:///{tmp_path / 'bot.db'}",
        action_endpoint=test_action_server,
        action_timeout_s=1.0,
        domain_path=DOMAIN,
        policy_path=POLICY,
        model_dir=tmp_path / "no-model",
        webhook_token=WEBHOOK_TOKEN,
        identity_secret=IDENTITY_SECRET,
    )


AppFactory = Callable[..., AbstractContextManager[TestClient]]


@pytest.fixture
def make_client(bot_settings: BotSettings) -> AppFactory:
    """Build a `TestClient` (lifespan running) for the app with settings overrides."""

    @contextmanager
    def make(classifier: Any = None, **overrides: Any) -> Iterator[TestClient]:
        settings = bot_settings.model_copy(update=overrides)
        app = create_app(settings, classifier=classifier or KeywordClassifier())
        with TestClient(app) as client:
            yield client

    return make


@pytest.fixture
def client(make_client: AppFactory) -> Iterator[TestClient]:
    """A client for the app with default test settings."""
    with make_client() as c:
        yield c


def say(
    client: TestClient,
    text: str,
    sender: str = "shopper",
    *,
    customer_token: str | None = None,
) -> list[dict[str, Any]]:
    """Send one message over the REST webhook and return the bot's messages.

    The test app holds `WEBHOOK_TOKEN`, so `say` speaks as a server-to-server caller,
    which may name its own conversation ids (`browser_say` speaks as the widget does).
    """
    headers = (
        {} if "Authorization" in client.headers else {"Authorization": f"Bearer {WEBHOOK_TOKEN}"}
    )
    body: dict[str, Any] = {"sender": sender, "message": text}
    if customer_token is not None:
        body["metadata"] = {"customer_token": customer_token}
    response = client.post("/webhooks/rest/webhook", json=body, headers=headers)
    assert response.status_code == 200, response.text
    messages: list[dict[str, Any]] = response.json()
    return messages


def texts(messages: list[dict[str, Any]]) -> str:
    """All texts of the bot's messages, joined, for `in` checks."""
    return " | ".join(str(m.get("text", "")) for m in messages)


LIVE_WEBHOOK_TOKEN = "live-webhook-token"
LIVE_ACTIONS_SECRET = "live-actions-secret"


class LiveStack:
    """A real action server (`shopintent actions`) and a real bot, over HTTP.

    `say` speaks as a server holding the webhook token (it may name its sender);
    `session` and `browser_say` speak as the widget does, with a conversation id the
    bot issued and, when given, a signed-in shopper's token.
    """

    def __init__(
        self, bot_url: str, actions_url: str, database_url: str, env: dict[str, str]
    ) -> None:
        self.bot_url = bot_url
        self.actions_url = actions_url
        self.database_url = database_url
        self.env = env

    def say(
        self, text: str, sender: str, customer_token: str | None = None
    ) -> list[dict[str, Any]]:
        """Send one message to the live bot as a server-to-server caller."""
        body: dict[str, Any] = {"sender": sender, "message": text}
        if customer_token is not None:
            body["metadata"] = {"customer_token": customer_token}
        response = httpx.post(
            f"{self.bot_url}/webhooks/rest/webhook",
            json=body,
            headers={"Authorization": f"Bearer {LIVE_WEBHOOK_TOKEN}"},
            timeout=30,
        )
        assert response.status_code == 200, response.text
        messages: list[dict[str, Any]] = response.json()
        return messages

    def session(self, customer_token: str | None = None) -> str:
        """A new conversation id, as the widget gets one."""
        body = {"metadata": {"customer_token": customer_token}} if customer_token else {}
        response = httpx.post(f"{self.bot_url}/webhooks/rest/session", json=body, timeout=10)
        assert response.status_code == 200, response.text
        return str(response.json()["sender"])

    def browser_post(
        self, text: str, sender: str | None, customer_token: str | None = None
    ) -> httpx.Response:
        """Post one message without the webhook token, as a browser does."""
        body: dict[str, Any] = {"message": text}
        if sender is not None:
            body["sender"] = sender
        if customer_token is not None:
            body["metadata"] = {"customer_token": customer_token}
        return httpx.post(f"{self.bot_url}/webhooks/rest/webhook", json=body, timeout=30)

    def browser_say(
        self, text: str, sender: str, customer_token: str | None = None
    ) -> list[dict[str, Any]]:
        """Send one message as the widget does and return the bot's messages."""
        response = self.browser_post(text, sender, customer_token)
        assert response.status_code == 200, response.text
        messages: list[dict[str, Any]] = response.json()
        return messages

    def token(self, customer_id: str) -> str:
        """A sign-in token for `customer_id`, signed the way a shop's backend signs it."""
        from bot.identity import issue_customer_token

        return issue_customer_token(customer_id, IDENTITY_SECRET)


@pytest.fixture(scope="session")
def seeded_database(tmp_path_factory: pytest.TempPathFactory) -> str:
    """An SQLite shop database seeded by the `actions` package; yields its URL."""
    from actions.store import ensure_seeded

    url = f"sqlite:///{tmp_path_factory.mktemp('shop') / 'shop.db'}"
    ensure_seeded(url)
    return url


@contextmanager
def actions_running(env: dict[str, str]) -> Iterator[str]:
    """`shopintent actions` on a free port with `env` (its database and secrets); yields its URL."""
    port = free_port()
    cmd = [sys.executable, "-m", "shopintent", "actions", "--port", str(port)]
    with running(cmd, f"http://127.0.0.1:{port}/health", env):
        yield f"http://127.0.0.1:{port}"


@contextmanager
def stack_running(
    model: Path, env: dict[str, str], cors_origin: str | None = None
) -> Iterator[LiveStack]:
    """`shopintent actions` and `shopintent serve --model model` on free ports, sharing `env`.

    `env` names the seeded shop database and the secrets; the actions server does not seed.
    The bot lets `cors_origin` call it (its own origin when none is given).
    """
    bot_port = free_port()
    bot_url = f"http://127.0.0.1:{bot_port}"
    env = {
        "SHOPINTENT_AUTO_SEED": "false",
        **env,
        "SHOPINTENT_CORS_ORIGINS": cors_origin or bot_url,
    }
    with actions_running(env) as actions_url:
        bot_cmd = [
            sys.executable, "-m", "shopintent", "serve", "--port", str(bot_port),
            "--model", str(model),
            "--action-endpoint", f"{actions_url}/webhook",
        ]  # fmt: skip
        with running(bot_cmd, f"{bot_url}/ready", env):
            yield LiveStack(bot_url, actions_url, env["SHOPINTENT_DATABASE_URL"], env)


@pytest.fixture(scope="session")
def live_stack(shop_model: Path, seeded_database: str) -> Iterator[LiveStack]:
    """`shopintent actions` and `shopintent serve` on free ports, on the seeded shop."""
    env = {
        "SHOPINTENT_DATABASE_URL": seeded_database,
        "SHOPINTENT_WEBHOOK_TOKEN": LIVE_WEBHOOK_TOKEN,
        "SHOPINTENT_ACTIONS_SECRET": LIVE_ACTIONS_SECRET,
        "SHOPINTENT_IDENTITY_SECRET": IDENTITY_SECRET,
    }
    with stack_running(shop_model, env) as stack:
        yield stack


@contextmanager
def serving(app: FastAPI, ready_path: str = "/health", timeout_s: float = 60.0) -> Iterator[str]:
    """Serve `app` under uvicorn in a thread of this process until the block ends; yields its URL.

    Returns once `ready_path` answers 200 (the lifespan has run).
    """
    import uvicorn

    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host="127.0.0.1",
            port=port,
            log_level="warning",
            lifespan="on",
            timeout_graceful_shutdown=2,
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        wait_for(f"http://127.0.0.1:{port}{ready_path}", timeout_s=timeout_s)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)


def use_review(target: FastAPI | TestClient, review_token: str | None, **settings: Any) -> None:
    """Give the app (or a client's app) review settings: its review token and `settings`."""
    app = target.app if isinstance(target, TestClient) else target
    review = ReviewSettings(review_token=review_token, **settings)
    app.dependency_overrides[get_review_settings] = lambda: review  # type: ignore[attr-defined]


def csrf_of(client: TestClient) -> str:
    """The CSRF token of the client's login session, as the inbox's forms carry it."""
    page = client.get("/review")
    assert page.status_code == 200, page.text
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found is not None
    return found.group(1)


# Headless Chromium as the browser tests launch it (no sandbox in containers, no GPU).
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
# Reports every Content-Security-Policy violation on the console (init scripts are not
# subject to the page's CSP); `watch_csp` collects them.
_REPORT_CSP = """document.addEventListener("securitypolicyviolation", function (e) {
  console.error("Content Security Policy violation: " + e.violatedDirective + " " + e.blockedURI);
});"""


def watch_csp(page: Any) -> list[str]:
    """Collect the page's CSP violations (console reports and violation events)."""
    found: list[str] = []
    page.add_init_script(_REPORT_CSP)
    page.on(
        "console",
        lambda m: found.append(m.text) if "Content Security Policy" in m.text else None,
    )
    return found


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """Debian's chromium (skips the test when it is not installed)."""
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.skip("Debian's chromium is not installed (apt-get install -y chromium)")
    return path


@pytest.fixture
def chromium(chromium_path: str) -> Iterator[Any]:
    """Headless Chromium with `LAUNCH_ARGS`, closed after the test."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, args=LAUNCH_ARGS)
        try:
            yield browser
        finally:
            browser.close()
