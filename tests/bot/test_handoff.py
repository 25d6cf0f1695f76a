"""Live handoff over the API: the queue, claim/reply/release/close, the shopper's feed.

The app runs with the keyword classifier and the test action server on SQLite; the
streams' cross-worker delivery is in `test_handoff_workers.py`, the two browsers in
`test_handoff_browser.py`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from bot.handoff.shopper import shopper_events
from tests.bot.conftest import AppFactory, say, texts, use_review

REVIEW_TOKEN = "handoff-review-token-of-at-least-32-characters"
AGENT = {"Authorization": f"Bearer {REVIEW_TOKEN}"}


@pytest.fixture
def agents(make_client: AppFactory) -> Iterator[TestClient]:
    """The app with a review token (agents use it), no e-mail offers."""
    with make_client(handoff_offer_email_after_s=0) as client:
        use_review(client, REVIEW_TOKEN)
        yield client


def api(client: TestClient, method: str, path: str, status: int = 200, **kwargs: Any) -> Any:
    response = client.request(method, f"/api/agent{path}", headers=AGENT, **kwargs)
    assert response.status_code == status, response.text
    return response.json() if response.content else None


def handoff_of(client: TestClient, sender: str) -> dict[str, Any]:
    items = [h for h in api(client, "GET", "/handoffs?state=all")["items"] if h["sender"] == sender]
    assert items, f"no handoff for {sender}"
    return dict(items[-1])


def stored_turns(client: TestClient, sender: str) -> list[dict[str, Any]]:
    store = client.app.state.chat.store  # type: ignore[attr-defined]
    turns: list[dict[str, Any]] = store.turns(sender)
    return turns


def poll(client: TestClient, sender: str, after: int = 0) -> dict[str, Any]:
    response = client.get(
        "/webhooks/rest/poll",
        params={"sender": sender, "after": after},
        headers={"Authorization": "Bearer test-webhook-token"},
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_asking_for_a_person_queues_the_conversation_and_says_the_wait(agents: TestClient) -> None:
    replies = say(agents, "I want to talk to a human", sender="ann")

    assert "ticket T-" in texts(replies)
    notice = replies[-1]
    assert "number 1 in the queue" in notice["text"] and "minute" in notice["text"]
    assert notice["custom"]["handoff"]["state"] == "waiting"
    queue = api(agents, "GET", "/handoffs?state=waiting")["items"]
    assert [(h["sender"], h["reason"], h["position"]) for h in queue] == [
        ("ann", "asked_for_person", 1)
    ]
    assert queue[0]["reason_label"] == "asked for a person"


@pytest.mark.parametrize(
    ("messages", "reason"),
    [
        (["blorp zzz", "qwerty asdf"], "fallbacks"),
        (["/complaint"], "complaint"),
        (["/report_missing_package"], "missing_parcel"),
        (["/contact_human_agent"], "asked_for_person"),
    ],
)
def test_each_way_into_the_queue_records_its_reason(
    agents: TestClient, messages: list[str], reason: str
) -> None:
    for message in messages:
        say(agents, message, sender=f"why-{reason}")
    assert handoff_of(agents, f"why-{reason}")["reason"] == reason


def test_the_queue_lists_the_oldest_first_with_their_places(agents: TestClient) -> None:
    for sender in ("first", "second", "third"):
        say(agents, "a person please", sender=sender)
    api(
        agents,
        "POST",
        f"/handoffs/{handoff_of(agents, 'second')['id']}/claim",
        json={"agent": "Bo"},
    )

    waiting = api(agents, "GET", "/handoffs?state=waiting")["items"]
    assert [(h["sender"], h["position"]) for h in waiting] == [("first", 1), ("third", 2)]
    assert [h["sender"] for h in api(agents, "GET", "/handoffs")["items"]] == [
        "first",
        "second",
        "third",
    ]
    assert "number 3 in the queue" in texts(say(agents, "a person please", sender="fourth"))


def test_while_with_the_team_the_policy_never_answers_and_after_release_it_does(
    agents: TestClient,
) -> None:
    sender = "quiet"
    say(agents, "hi", sender=sender)
    say(agents, "talk to a human", sender=sender)
    handoff = handoff_of(agents, sender)
    # Waiting: messages that would start a form or a search go to the team.
    assert say(agents, "where is my order?", sender=sender) == []
    assert say(agents, "find red shoes", sender=sender) == []
    claimed = api(agents, "POST", f"/handoffs/{handoff['id']}/claim", json={"agent": "Anna"})
    assert (claimed["state"], claimed["agent"]) == ("with_agent", "Anna")
    api(agents, "POST", f"/handoffs/{handoff['id']}/messages", 201, json={"text": "Hi, I'm Anna."})
    assert say(agents, "hello Anna, it's order 1042", sender=sender) == []
    assert say(agents, "/track_order", sender=sender) == []
    released = api(agents, "POST", f"/handoffs/{handoff['id']}/release")
    assert released["state"] == "released"

    back = say(agents, "hi", sender=sender)
    assert back and "custom" not in back[0], back  # the bot itself answers again

    turns = stored_turns(agents, sender)
    during = [t for t in turns if t["seq"] in (3, 4, 5, 6)]
    assert [t["text"] for t in during] == [
        "where is my order?",
        "find red shoes",
        "hello Anna, it's order 1042",
        "/track_order",
    ]
    assert all(t["actions"] == [] and t["action"] is None for t in during), during
    assert [t["intent"] for t in during] == [
        "track_order",
        "product_search",
        "greet",
        "track_order",
    ]
    assert turns[-1]["action"] == "utter_greet"


def test_the_transcript_has_the_history_with_intents_and_every_message_with_its_author(
    agents: TestClient,
) -> None:
    sender = "talky"
    say(agents, "hi", sender=sender)
    say(agents, "talk to a person", sender=sender)
    handoff = handoff_of(agents, sender)
    api(agents, "POST", f"/handoffs/{handoff['id']}/claim", json={"agent": "Anna"})
    api(agents, "POST", f"/handoffs/{handoff['id']}/messages", 201, json={"text": "Hello!"})
    say(agents, "my card 4111 1111 1111 1111 was charged twice", sender=sender)

    detail = api(agents, "GET", f"/handoffs/{handoff['id']}")
    history = [(m["from"], m["text"], m["intent"]) for m in detail["history"]]
    assert history[0] == ("shopper", "hi", "greet")
    assert history[2] == ("shopper", "talk to a person", "contact_human_agent")
    assert history[3][0] == "bot" and "ticket T-" in history[3][1]
    lines = [(m["from"], m["agent"], m["text"]) for m in detail["messages"]]
    assert lines[0][0] == "bot" and "in the queue" in lines[0][2]
    assert lines[1:] == [
        ("bot", None, "Anna from support has joined the chat."),
        ("agent", "Anna", "Hello!"),
        ("shopper", None, "my card [CARD] was charged twice"),
    ]
    assert [m["seq"] for m in detail["messages"]] == [1, 2, 3, 4]
    assert detail["messages"][-1]["intent"] == "nlu_fallback"
    assert detail["last"] == 4


def test_agent_messages_are_stored_redacted_and_reach_the_shopper_with_the_agents_name(
    agents: TestClient,
) -> None:
    sender = "redact"
    say(agents, "talk to a human", sender=sender)
    handoff = handoff_of(agents, sender)
    api(agents, "POST", f"/handoffs/{handoff['id']}/claim", json={"agent": "  Anna  "})
    out = api(
        agents,
        "POST",
        f"/handoffs/{handoff['id']}/messages",
        201,
        json={"text": "Write to anna.support@example.com or call +1 415 555 0100"},
    )
    assert out["redacted"] is True
    assert out["message"]["text"] == "Write to [EMAIL] or call [PHONE]"

    feed = poll(agents, sender)
    assert [(m["from"], m.get("agent"), m["text"]) for m in feed["messages"]][-1] == (
        "agent",
        "Anna",
        "Write to [EMAIL] or call [PHONE]",
    )
    assert (feed["state"], feed["agent"], feed["last"]) == ("with_agent", "Anna", 3)
    assert poll(agents, sender, after=3)["messages"] == []


def test_the_api_answers_clear_4xx(agents: TestClient) -> None:
    say(agents, "talk to a human", sender="errors")
    hid = handoff_of(agents, "errors")["id"]

    api(agents, "POST", "/handoffs/999999/claim", 404)
    api(agents, "GET", "/handoffs/999999", 404)
    reply_first = api(agents, "POST", f"/handoffs/{hid}/messages", 409, json={"text": "hi"})
    assert "claim it first" in reply_first["message"]
    api(agents, "POST", f"/handoffs/{hid}/claim", json={"agent": "Anna"})
    taken = api(agents, "POST", f"/handoffs/{hid}/claim", 409, json={"agent": "Bo"})
    assert taken["error"] == "handoff_conflict" and "with Anna" in taken["message"]
    api(agents, "POST", f"/handoffs/{hid}/messages", 422, json={"text": "   "})
    api(agents, "POST", f"/handoffs/{hid}/messages", 422, json={"text": ""})
    api(agents, "POST", f"/handoffs/{hid}/messages", 422, json={})
    api(agents, "POST", f"/handoffs/{hid}/close")
    api(agents, "POST", f"/handoffs/{hid}/release", 409)
    api(agents, "POST", f"/handoffs/{hid}/close", 409)
    assert agents.get("/api/agent/handoffs").status_code == 401
    wrong = {"Authorization": "Bearer test-webhook-token"}
    assert agents.get("/api/agent/handoffs", headers=wrong).status_code == 401


def test_the_shoppers_feed_takes_only_the_conversations_own_signed_id(agents: TestClient) -> None:
    sender = agents.post("/webhooks/rest/session", json={}).json()["sender"]
    response = agents.post("/webhooks/rest/webhook", json={"sender": sender, "message": "a person"})
    assert response.status_code == 200

    own = agents.get("/webhooks/rest/poll", params={"sender": sender})
    assert own.status_code == 200 and own.json()["state"] == "waiting"
    forged = sender[:-4] + ("0000" if not sender.endswith("0000") else "1111")
    for bad in (forged, "someone-else"):
        assert agents.get("/webhooks/rest/poll", params={"sender": bad}).status_code == 401
        assert agents.get("/webhooks/rest/stream", params={"sender": bad}).status_code == 401
    assert agents.get("/webhooks/rest/poll").status_code == 400
    with_token = agents.get(
        "/webhooks/rest/poll", params={"sender": "any-id", "token": "test-webhook-token"}
    )
    assert with_token.status_code == 200 and with_token.json()["state"] == "bot"


def sse_events(chunks: list[str]) -> list[dict[str, Any]]:
    events = []
    for block in "".join(chunks).split("\n\n"):
        fields: dict[str, Any] = {}
        for line in block.splitlines():
            if line.startswith(":") or ":" not in line:
                continue
            name, _, value = line.partition(":")
            fields[name] = value.strip()
        if "event" in fields:
            fields["data"] = json.loads(fields["data"])
            events.append(fields)
    return events


def read_stream(client: TestClient, sender: str, after: int, max_s: float) -> list[dict[str, Any]]:
    service = client.app.state.handoffs  # type: ignore[attr-defined]

    async def collect() -> list[str]:
        return [chunk async for chunk in shopper_events(service, sender, after, max_s)]

    return sse_events(client.portal.call(collect))  # type: ignore[union-attr]


def test_the_shoppers_stream_sends_messages_with_ids_state_and_typing_and_resumes(
    agents: TestClient,
) -> None:
    sender = "streamer"
    say(agents, "talk to a human", sender=sender)
    hid = handoff_of(agents, sender)["id"]
    api(agents, "POST", f"/handoffs/{hid}/claim", json={"agent": "Anna"})
    api(agents, "POST", f"/handoffs/{hid}/messages", 201, json={"text": "one"})
    api(agents, "POST", f"/handoffs/{hid}/typing", 204)

    first = read_stream(agents, sender, 0, 0.3)
    assert [(e["event"], e.get("id")) for e in first] == [
        ("message", "1"),
        ("message", "2"),
        ("message", "3"),
        ("state", None),
        ("typing", None),
    ]
    assert first[2]["data"]["from"] == "agent" and first[2]["data"]["agent"] == "Anna"
    assert first[3]["data"] == {"state": "with_agent", "agent": "Anna", "handoff": hid}
    say(agents, "thanks", sender=sender)  # the shopper's own messages are not sent back
    api(agents, "POST", f"/handoffs/{hid}/messages", 201, json={"text": "two"})
    api(agents, "POST", f"/handoffs/{hid}/close")

    resumed = read_stream(agents, sender, 3, 0.3)  # as after Last-Event-ID: 3
    assert [(e["event"], e.get("id"), e["data"].get("text")) for e in resumed] == [
        ("message", "5", "two"),
        (
            "message",
            "6",
            "Anna has closed this chat. I'm the shop assistant again, if you need anything else.",
        ),
        ("state", None, None),
    ]
    assert resumed[-1]["data"]["state"] == "bot"


def test_no_agent_for_a_while_offers_an_e_mail_reply_kept_on_the_handoff_only(
    make_client: AppFactory,
) -> None:
    sender = "nobody-there"
    email = "jo.shopper@example.com"
    with make_client(handoff_offer_email_after_s=0.3) as client:
        use_review(client, REVIEW_TOKEN)
        say(client, "talk to a human", sender=sender)
        deadline = time.monotonic() + 10
        offer: list[dict[str, Any]] = []
        while not offer and time.monotonic() < deadline:
            offer = [m for m in poll(client, sender)["messages"] if m.get("buttons")]
            time.sleep(0.1)
        assert offer, "no e-mail offer within 10 s"
        assert "reply by e-mail" in offer[0]["text"]
        assert [b["payload"] for b in offer[0]["buttons"]] == ["/affirm", "/deny"]

        asked = say(client, "/affirm", sender=sender)
        assert "What e-mail address" in texts(asked)
        assert "doesn't look like" in texts(say(client, "hmm, let me think", sender=sender))
        saved = say(client, f"it is {email} thanks", sender=sender)
        assert "we'll reply by e-mail" in texts(saved)

        handoff = handoff_of(client, sender)
        assert (handoff["state"], handoff["email"], handoff["contact_email"]) == (
            "waiting",
            "given",
            email,
        )
        assert [t["text"] for t in stored_turns(client, sender)][-1] == "it is [EMAIL] thanks"
        engine = client.app.state.chat.store.engine  # type: ignore[attr-defined]
        with engine.connect() as conn:
            for table in ("bot_turns", "bot_conversations", "bot_handoff_messages"):
                rows = conn.execute(text(f"SELECT * FROM {table}")).all()
                assert email not in str(rows), table
        # Offered once, even though the handoff keeps waiting.
        time.sleep(0.6)
        offers = [m for m in poll(client, sender)["messages"] if m.get("buttons")]
        assert len(offers) == 1


def test_declining_the_e_mail_offer_keeps_the_shopper_waiting(make_client: AppFactory) -> None:
    from datetime import UTC, datetime, timedelta

    with make_client(handoff_offer_email_after_s=3600) as client:
        use_review(client, REVIEW_TOKEN)
        say(client, "a person please", sender="declines")
        service = client.app.state.handoffs  # type: ignore[attr-defined]
        an_hour_on = datetime.now(UTC) + timedelta(hours=1, seconds=1)
        assert client.portal.call(service.offer_due_emails, an_hour_on) == 1  # type: ignore[union-attr]
        assert client.portal.call(service.offer_due_emails, an_hour_on) == 0  # type: ignore[union-attr]
        assert "stay in the queue" in texts(say(client, "/deny", sender="declines"))
        assert handoff_of(client, "declines")["email"] == "declined"
        assert say(client, "/deny", sender="declines") == []


def test_restart_leaves_the_queue_and_the_bot_answers(agents: TestClient) -> None:
    say(agents, "talk to a human", sender="restarts")
    assert "start over" in texts(say(agents, "/restart", sender="restarts"))
    assert handoff_of(agents, "restarts")["state"] == "closed"
    assert say(agents, "hi", sender="restarts")


def test_with_live_handoff_off_the_bot_keeps_answering(make_client: AppFactory) -> None:
    with make_client(handoff_live=False) as client:
        use_review(client, REVIEW_TOKEN)
        assert "ticket T-" in texts(say(client, "talk to a human", sender="old"))
        assert say(client, "hi", sender="old")
        response = client.get("/api/agent/handoffs", headers=AGENT)
        assert response.status_code == 404 and response.json()["error"] == "handoff_off"


def test_analytics_count_handoffs_by_reason_and_time_to_the_first_agent_reply(
    agents: TestClient,
) -> None:
    for sender, message in (("a1", "a person"), ("a2", "/complaint"), ("a3", "a human")):
        say(agents, message, sender=sender)
    hid = handoff_of(agents, "a1")["id"]
    api(agents, "POST", f"/handoffs/{hid}/claim", json={"agent": "Anna"})
    time.sleep(0.05)
    api(agents, "POST", f"/handoffs/{hid}/messages", 201, json={"text": "hi"})

    live = agents.get("/api/review/analytics", headers=AGENT).json()["live"]
    assert live["opened"] == 3 and live["answered"] == 1 and live["waiting_now"] == 2
    assert dict(map(tuple, live["by_reason"])) == {"asked_for_person": 2, "complaint": 1}
    assert live["first_reply_median_s"] >= 0.05
    page = agents.get("/review/analytics", headers=AGENT)
    assert page.status_code == 200
    assert 'id="kpi-handoffs">3<' in page.text and "asked for a person" in page.text


def test_the_console_needs_the_review_login_and_a_sessions_posts_need_its_csrf_token(
    agents: TestClient,
) -> None:
    anonymous = agents.get("/agent")
    assert anonymous.status_code == 401 and 'name="next" value="/agent"' in anonymous.text
    login = agents.post(
        "/review/login",
        content=f"token={REVIEW_TOKEN}&next=/agent",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        follow_redirects=False,
    )
    assert (login.status_code, login.headers["location"]) == (303, "/agent")
    page = agents.get("/agent")
    assert page.status_code == 200
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert '<script src="/agent/static/agent.js" defer></script>' in page.text
    assert "<script>" not in page.text and 'href="/agent"' in page.text
    csrf = page.text.split('data-csrf="', 1)[1].split('"', 1)[0]
    script = agents.get("/agent/static/agent.js")
    assert script.status_code == 200 and "EventSource" in script.text
    assert agents.get("/agent/static/../store.py").status_code == 404

    say(agents, "talk to a human", sender="console")
    hid = handoff_of(agents, "console")["id"]
    forged = agents.post(f"/api/agent/handoffs/{hid}/claim", json={"agent": "Eve"})
    assert forged.status_code == 403 and forged.json()["error"] == "csrf_failed"
    claimed = agents.post(
        f"/api/agent/handoffs/{hid}/claim", json={"agent": "Anna"}, headers={"X-CSRF-Token": csrf}
    )
    assert claimed.status_code == 200
    assert agents.get("/api/agent/handoffs").status_code == 200  # reading needs no token


def test_canned_replies_come_from_the_domains_responses(agents: TestClient) -> None:
    canned = {c["name"]: c["text"] for c in api(agents, "GET", "/canned")}
    assert canned["utter_check_refund_policy"].startswith("Unused items can be returned")
    assert not any(name.startswith("utter_handoff_") for name in canned)


def test_the_agent_api_is_in_the_openapi_schema(agents: TestClient) -> None:
    paths = agents.get("/openapi.json").json()["paths"]
    for path in (
        "/api/agent/handoffs",
        "/api/agent/handoffs/{handoff_id}",
        "/api/agent/handoffs/{handoff_id}/claim",
        "/api/agent/handoffs/{handoff_id}/messages",
        "/api/agent/handoffs/{handoff_id}/release",
        "/api/agent/handoffs/{handoff_id}/close",
        "/webhooks/rest/stream",
        "/webhooks/rest/poll",
    ):
        assert path in paths, path
    assert paths["/api/agent/handoffs"]["get"]["tags"] == ["agent"]


def test_erasing_and_purging_remove_the_handoff_and_its_e_mail(agents: TestClient) -> None:
    from datetime import UTC, datetime, timedelta

    from bot.handoff.store import HandoffStore

    say(agents, "talk to a human", sender="gone")
    engine = agents.app.state.chat.store.engine  # type: ignore[attr-defined]
    store = HandoffStore(engine)
    assert store.purge(datetime.now(UTC) - timedelta(days=1)) == 0
    assert store.forget(["gone"]) == 1
    assert store.active("gone") is None
    with create_engine(str(engine.url)).connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM bot_handoff_messages")).scalar_one() == 0
