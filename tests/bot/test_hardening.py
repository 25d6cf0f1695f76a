"""Hardening: review sessions, login back-off, webhook rate limits, security headers."""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from bot.app import CONTENT_SECURITY_POLICY, create_app
from bot.review.auth import COOKIE
from bot.review.sessions import ReviewSession
from bot.review.settings import ReviewSettings, get_review_settings
from bot.settings import BotSettings
from tests.bot.conftest import (
    WEBHOOK_TOKEN,
    AppFactory,
    KeywordClassifier,
    csrf_of,
    say,
    use_review,
)

TOKEN = "hardening-review-token-of-40-characters!"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
SERVER = {"Authorization": f"Bearer {WEBHOOK_TOKEN}"}


@pytest.fixture
def review_client(make_client: AppFactory) -> Iterator[TestClient]:
    with make_client() as client:
        use_review(client, TOKEN)
        yield client


def other_client(client: TestClient, address: str = "203.0.113.7") -> TestClient:
    """A second browser on the same app, from another client address (lifespan not rerun)."""
    return TestClient(client.app, client=(address, 50000))


def login(client: TestClient, token: str = TOKEN) -> Any:
    return client.post(
        "/review/login",
        content=f"token={token}&next=/review",
        headers=FORM,
        follow_redirects=False,
    )


def session_cookie(response: Any) -> str:
    found = re.search(rf"{COOKIE}=([^;]+)", response.headers["set-cookie"])
    assert found is not None, response.headers.get("set-cookie")
    return found.group(1)


def engine_of(client: TestClient) -> Any:
    return client.app.state.chat.store.engine  # type: ignore[attr-defined]


# -- review sessions -----------------------------------------------------------------


def test_each_login_gets_its_own_random_session_cookie(review_client: TestClient) -> None:
    first, second = login(review_client), login(review_client)

    assert first.status_code == second.status_code == 303
    assert session_cookie(first) != session_cookie(second)
    assert len(session_cookie(first)) >= 43  # token_urlsafe(32)
    cookie = first.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    assert "secure" not in cookie  # development over http
    assert "max-age" not in cookie  # the server decides when the session ends


def test_a_logged_out_cookie_no_longer_opens_review(review_client: TestClient) -> None:
    cookie = session_cookie(login(review_client))
    csrf = csrf_of(review_client)

    out = review_client.post(
        "/review/logout", content=f"csrf={csrf}", headers=FORM, follow_redirects=False
    )
    review_client.cookies.set(COOKIE, cookie)  # a copy of the cookie kept by an attacker

    assert out.status_code == 303 and out.headers["location"] == "/review/login"
    page = review_client.get("/review")
    assert page.status_code == 401 and 'action="/review/login"' in page.text
    assert review_client.get("/api/review/turns").status_code == 401


def test_logout_without_the_session_csrf_token_is_refused(review_client: TestClient) -> None:
    login(review_client)

    refused = review_client.post("/review/logout", content="csrf=forged", headers=FORM)

    assert refused.status_code == 400
    assert review_client.get("/review").status_code == 200  # still logged in


def test_an_expired_session_is_refused(review_client: TestClient) -> None:
    login(review_client)
    assert review_client.get("/review").status_code == 200

    with engine_of(review_client).begin() as conn:
        conn.execute(
            update(ReviewSession).values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )

    assert review_client.get("/review").status_code == 401
    assert review_client.get("/api/review/turns").status_code == 401


def test_using_a_session_renews_its_idle_expiry(review_client: TestClient) -> None:
    login(review_client)
    soon = datetime.now(UTC) + timedelta(seconds=30)
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    with engine_of(review_client).begin() as conn:
        conn.execute(update(ReviewSession).values(expires_at=soon, last_seen_at=an_hour_ago))

    assert review_client.get("/review").status_code == 200

    with engine_of(review_client).connect() as conn:
        expires = conn.execute(ReviewSession.__table__.select()).one().expires_at
    assert expires.replace(tzinfo=UTC) > datetime.now(UTC) + timedelta(hours=7)


def test_changing_the_review_token_ends_every_session(review_client: TestClient) -> None:
    login(review_client)

    use_review(review_client, "another-review-token-of-32-characters-x")

    assert review_client.get("/review").status_code == 401


def test_a_form_posted_with_another_sessions_csrf_token_is_refused(
    review_client: TestClient,
) -> None:
    say(review_client, "hello", sender="alice")
    target = review_client.get("/api/review/turns", headers={"Authorization": f"Bearer {TOKEN}"})
    turn = target.json()["items"][0]["id"]
    mallory = other_client(review_client)
    login(review_client)
    login(mallory)
    theirs, mine = csrf_of(mallory), csrf_of(review_client)
    assert theirs != mine

    refused = review_client.post(
        f"/review/turns/{turn}", content=f"action=correct&csrf={theirs}", headers=FORM
    )
    done = review_client.post(
        f"/review/turns/{turn}",
        content=f"action=correct&csrf={mine}&next=/review",
        headers=FORM,
        follow_redirects=False,
    )

    assert refused.status_code == 400
    assert "security field" in refused.text
    assert done.status_code == 303


def test_the_cookie_is_secure_in_production(
    bot_settings: BotSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHOPINTENT_REVIEW_TOKEN", TOKEN)
    get_review_settings.cache_clear()
    try:
        settings = bot_settings.model_copy(update={"env": "production", "actions_secret": "a" * 32})
        with TestClient(create_app(settings, classifier=KeywordClassifier())) as client:
            response = login(client)
    finally:
        get_review_settings.cache_clear()

    assert response.status_code == 303
    assert "secure" in response.headers["set-cookie"].lower()


# -- login back-off and token length ---------------------------------------------------


def test_repeated_wrong_logins_get_429_but_another_address_may_log_in(
    review_client: TestClient,
) -> None:
    answers = [login(review_client, "wrong-token").status_code for _ in range(5)]
    blocked = login(review_client, "wrong-token")
    correct_but_blocked = login(review_client)
    elsewhere = login(other_client(review_client))

    assert answers == [401] * 5
    assert blocked.status_code == 429
    assert int(blocked.headers["retry-after"]) > 0
    assert "Too many failed logins" in blocked.text
    assert correct_but_blocked.status_code == 429  # no more guesses, right or wrong
    assert elsewhere.status_code == 303


def test_the_wait_doubles_with_each_failure_after_the_limit(review_client: TestClient) -> None:
    from bot.review.sessions import record_failure

    engine = engine_of(review_client)
    waits = [record_failure(engine, "client-x", 5, 600) for _ in range(8)]

    assert waits == [0, 0, 0, 0, 30, 60, 120, 240]


def test_a_successful_login_forgets_the_failures(review_client: TestClient) -> None:
    for _ in range(4):
        login(review_client, "wrong-token")
    assert login(review_client).status_code == 303

    assert [login(review_client, "wrong").status_code for _ in range(4)] == [401] * 4


@pytest.mark.parametrize("token", ["short", "x" * 31])
def test_a_short_review_token_keeps_review_locked_and_says_why(
    bot_settings: BotSettings, token: str, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(bot_settings, classifier=KeywordClassifier())
    app.dependency_overrides[get_review_settings] = lambda: ReviewSettings(review_token=token)
    with caplog.at_level(logging.WARNING), TestClient(app) as client:
        api = client.get("/api/review/turns", headers={"Authorization": f"Bearer {token}"})
        page = client.get("/review/login")
        tried = login(client, token)

    assert api.status_code == 401
    assert "at least 32" in api.json()["message"]
    assert "at least 32" in page.text and 'name="token"' not in page.text
    assert tried.status_code == 401 and COOKIE not in tried.headers.get("set-cookie", "")
    assert any("at least 32" in r.getMessage() for r in caplog.records)  # at start-up


# -- webhook rate limits --------------------------------------------------------------


def browser_session(client: TestClient) -> Any:
    return client.post("/webhooks/rest/session", json={})


def test_a_flood_from_one_conversation_gets_429_and_other_conversations_go_on(
    make_client: AppFactory,
) -> None:
    with make_client(conversation_rate_limit="3/minute") as client:
        answers = [
            client.post(
                "/webhooks/rest/webhook", json={"sender": "flood", "message": "hi"}, headers=SERVER
            )
            for _ in range(4)
        ]
        other = client.post(
            "/webhooks/rest/webhook", json={"sender": "calm", "message": "hi"}, headers=SERVER
        )

    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    limited = answers[-1]
    assert limited.json()["error"] == "rate_limited"
    assert "3 per minute" in limited.json()["message"]
    assert 1 <= int(limited.headers["retry-after"]) <= 60
    assert other.status_code == 200


def test_a_browser_address_is_limited_across_its_conversations(make_client: AppFactory) -> None:
    with make_client(client_rate_limit="4/minute", session_rate_limit="3/minute") as client:
        sessions = [browser_session(client) for _ in range(4)]
        senders = [s.json()["sender"] for s in sessions[:3]]
        messages = [
            client.post("/webhooks/rest/webhook", json={"sender": s, "message": "hi"})
            for s in senders + senders[:2]
        ]
        neighbour = other_client(client, "198.51.100.9")
        elsewhere = browser_session(neighbour)
        server = client.post(
            "/webhooks/rest/webhook", json={"sender": "srv", "message": "hi"}, headers=SERVER
        )

    assert [s.status_code for s in sessions] == [200, 200, 200, 429]
    assert sessions[-1].headers["retry-after"]
    assert [m.status_code for m in messages] == [200, 200, 200, 200, 429]
    assert elsewhere.status_code == 200
    assert server.status_code == 200  # callers with the webhook token: no per-address limit


def test_an_empty_limit_turns_the_rule_off(make_client: AppFactory) -> None:
    with make_client(conversation_rate_limit="") as client:
        for _ in range(40):
            say(client, "hi", sender="chatty")


def test_a_malformed_limit_is_refused_with_its_setting_name() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="SHOPINTENT_CONVERSATION_RATE_LIMIT"):
        BotSettings(conversation_rate_limit="a lot")


def redis_url() -> str:
    import redis

    url = "redis://127.0.0.1:6379/0"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=0.5).ping()
    except redis.RedisError:
        pytest.skip("Redis is not answering on 127.0.0.1:6379")
    return url


def test_limits_in_redis_are_shared_by_two_bot_instances(make_client: AppFactory) -> None:
    url = redis_url()
    sender = f"shared-{uuid.uuid4().hex}"
    body = {"sender": sender, "message": "hi"}
    with (
        make_client(redis_url=url, conversation_rate_limit="2/minute") as one,
        make_client(redis_url=url, conversation_rate_limit="2/minute") as two,
    ):
        first = one.post("/webhooks/rest/webhook", json=body, headers=SERVER)
        second = two.post("/webhooks/rest/webhook", json=body, headers=SERVER)
        third = one.post("/webhooks/rest/webhook", json=body, headers=SERVER)
        fourth = two.post("/webhooks/rest/webhook", json=body, headers=SERVER)

    assert [r.status_code for r in (first, second, third, fourth)] == [200, 200, 429, 429]
    assert fourth.headers["retry-after"]


def test_an_unreachable_redis_lets_messages_through(
    make_client: AppFactory, caplog: pytest.LogCaptureFixture
) -> None:
    with (
        caplog.at_level(logging.WARNING),
        make_client(redis_url="redis://127.0.0.1:9/0", conversation_rate_limit="1/minute") as c,
    ):
        for _ in range(3):
            say(c, "hi", sender="no-redis")

    assert any("not enforced" in r.getMessage() for r in caplog.records)


# -- headers ----------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/review", "/review/login"])
def test_html_pages_carry_the_csp_and_nosniff(review_client: TestClient, path: str) -> None:
    response = review_client.get(path)

    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "script-src 'self'" in CONTENT_SECURITY_POLICY
    assert "frame-ancestors 'none'" in CONTENT_SECURITY_POLICY
    assert response.headers["x-content-type-options"] == "nosniff"


def test_the_demo_page_has_no_inline_script(review_client: TestClient) -> None:
    page = review_client.get("/").text
    script = review_client.get("/demo.js")

    assert re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page) is None
    assert '<script src="/demo.js" defer></script>' in page
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("application/javascript")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/widget.js"),
        ("GET", "/health"),
        ("POST", "/webhooks/rest/session"),
        ("GET", "/review/static/review.css"),
        ("GET", "/openapi.json"),
    ],
)
def test_every_response_says_nosniff_and_only_html_gets_the_csp(
    review_client: TestClient, method: str, path: str
) -> None:
    response = review_client.request(method, path, json={} if method == "POST" else None)

    assert response.headers["x-content-type-options"] == "nosniff"
    assert "content-security-policy" not in response.headers


def test_a_429_reaches_a_browser_on_another_origin_with_retry_after(
    make_client: AppFactory,
) -> None:
    origin = "http://localhost:5005"
    with make_client(session_rate_limit="1/minute") as client:
        browser_session(client)
        limited = client.post("/webhooks/rest/session", json={}, headers={"Origin": origin})

    assert limited.status_code == 429
    assert limited.headers["access-control-allow-origin"] == origin
    assert "retry-after" in limited.headers["access-control-expose-headers"].lower()
