"""The review API and pages: auth, the inbox's order and filters, verdicts, export, analytics."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import text as sql

from bot.review.analytics import charts, summarise
from bot.review.auth import COOKIE
from bot.review.export import export_annotations
from bot.review.settings import ReviewSettings
from nlu.data import read_nlu
from tests.bot.conftest import PG_URL, AppFactory, csrf_of, say, use_review

TOKEN = "review-secret-for-tests-of-32-characters"
WEBHOOK_TOKEN = "widget-token-for-tests"
BEARER = {"Authorization": f"Bearer {TOKEN}"}

# (message, what KeywordClassifier predicts)
SCRIPT = [
    ("hello", "greet"),
    ("my parcel never arrived", "nlu_fallback"),
    ("track 1042", "track_order"),
    ("can I pay with crypto", "check_payment_methods"),
    ("what's the weather on mars", "nlu_fallback"),
]


@pytest.fixture
def review_client(make_client: AppFactory) -> Iterator[TestClient]:
    """An app with a review token, a webhook token, and the scripted conversation stored."""
    with make_client(webhook_token=WEBHOOK_TOKEN) as client:
        use_review(client, TOKEN)
        client.headers["Authorization"] = f"Bearer {WEBHOOK_TOKEN}"
        for message, _ in SCRIPT:
            say(client, message, sender="alice")
        del client.headers["Authorization"]
        yield client


def turns(client: TestClient, **params: Any) -> list[dict[str, Any]]:
    response = client.get("/api/review/turns", params=params, headers=BEARER)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def turn_id(client: TestClient, text: str) -> int:
    return next(int(t["id"]) for t in turns(client) if t["text"] == text)


def relabel(client: TestClient, text: str, intent: str) -> None:
    target = turn_id(client, text)
    response = client.post(
        f"/api/review/turns/{target}/label", json={"intent": intent}, headers=BEARER
    )
    assert response.status_code == 200, response.text


def mark(client: TestClient, text: str, verdict: str) -> None:
    target = turn_id(client, text)
    response = client.post(
        f"/api/review/turns/{target}/verdict", json={"verdict": verdict}, headers=BEARER
    )
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/review/turns"),
        ("GET", "/api/review/turns/1"),
        ("POST", "/api/review/turns/1/label"),
        ("POST", "/api/review/bulk"),
        ("GET", "/api/review/export"),
        ("GET", "/review"),
        ("GET", "/review/analytics"),
        ("GET", "/review/turns/1"),
        ("POST", "/review/turns/1"),
    ],
)
@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Bearer {WEBHOOK_TOKEN}"}],
    ids=["no-token", "wrong-token", "webhook-token"],
)
def test_review_routes_answer_401_without_the_review_token(
    review_client: TestClient, method: str, path: str, headers: dict[str, str]
) -> None:
    response = review_client.request(method, path, headers=headers, json={"intent": "greet"})

    assert response.status_code == 401


def test_review_page_without_a_token_shows_the_login_form(review_client: TestClient) -> None:
    response = review_client.get("/review")

    assert response.status_code == 401
    assert 'action="/review/login"' in response.text
    assert "my parcel never arrived" not in response.text


@pytest.mark.parametrize(
    "path", ["/review/turns/not-a-number", "/review/analytics?days=many", "/agent"]
)
def test_review_pages_ask_for_the_login_before_reading_their_parameters(
    review_client: TestClient, path: str
) -> None:
    response = review_client.get(path, headers={"Authorization": "Bearer wrong"})

    assert response.status_code == 401
    assert 'action="/review/login"' in response.text
    assert f'name="next" value="{path}"' in response.text


def test_review_api_answers_a_bad_turn_id_without_the_token_with_401_json(
    review_client: TestClient,
) -> None:
    response = review_client.get("/api/review/turns/not-a-number")

    assert response.status_code == 401
    assert response.json()["error"] == "review_unauthorized"


def test_review_stays_locked_when_its_token_equals_the_webhook_token(
    review_client: TestClient,
) -> None:
    use_review(review_client, WEBHOOK_TOKEN)

    response = review_client.get(
        "/api/review/turns", headers={"Authorization": f"Bearer {WEBHOOK_TOKEN}"}
    )

    assert response.status_code == 401
    assert "equals the webhook token" in response.json()["message"]


def test_review_without_a_configured_token_says_how_to_enable_it(
    review_client: TestClient,
) -> None:
    use_review(review_client, None)

    response = review_client.get("/api/review/turns", headers=BEARER)

    assert response.status_code == 401
    assert "SHOPINTENT_REVIEW_TOKEN" in response.json()["message"]


def test_turns_are_listed_least_confident_first_with_the_documented_fields(
    review_client: TestClient,
) -> None:
    items = turns(review_client, reviewed="false")

    assert len(items) == len(SCRIPT)
    confidences = [t["confidence"] for t in items]
    assert confidences == sorted(confidences)
    assert {"id", "sender", "text", "intent", "confidence", "model_version"} <= set(items[0])
    assert items[0]["model_version"] == "keywords-1"
    assert items[0]["sender"] == "alice"
    assert {t["text"]: t["intent"] for t in items} == dict(SCRIPT)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"max_confidence": 0.7}, {"my parcel never arrived", "what's the weather on mars"}),
        ({"intent": "track_order"}, {"track 1042"}),
        ({"fallback_only": "true"}, {"my parcel never arrived", "what's the weather on mars"}),
        ({"min_confidence": 0.8, "intent": "greet"}, {"hello"}),
        ({"since": "2000-01-01", "until": "2000-01-02"}, set()),
    ],
)
def test_turn_filters_narrow_the_list(
    review_client: TestClient, params: dict[str, Any], expected: set[str]
) -> None:
    assert {t["text"] for t in turns(review_client, **params)} == expected


def test_relabelled_turn_leaves_the_unreviewed_list_and_keeps_its_label(
    review_client: TestClient,
) -> None:
    target = turn_id(review_client, "my parcel never arrived")

    response = review_client.post(
        f"/api/review/turns/{target}/label", json={"intent": "track_order"}, headers=BEARER
    )

    assert response.status_code == 200
    assert response.json() == {"reviewed": 1}
    assert target not in {t["id"] for t in turns(review_client, reviewed="false")}
    detail = review_client.get(f"/api/review/turns/{target}", headers=BEARER).json()
    assert (detail["verdict"], detail["label"]) == ("relabeled", "track_order")
    assert [c["text"] for c in detail["context"]][:3] == [
        "hello",
        "my parcel never arrived",
        "track 1042",
    ]


def test_relabelling_to_the_predicted_intent_counts_as_correct(review_client: TestClient) -> None:
    target = turn_id(review_client, "hello")

    review_client.post(
        f"/api/review/turns/{target}/label", json={"intent": "greet"}, headers=BEARER
    )

    assert review_client.get(f"/api/review/turns/{target}", headers=BEARER).json()["verdict"] == (
        "correct"
    )


@pytest.mark.parametrize(
    ("path", "body", "status", "message"),
    [
        ("/api/review/turns/99999/label", {"intent": "greet"}, 404, "unknown ids \\[99999\\]"),
        ("/api/review/turns/{id}/label", {"intent": "nlu_fallback"}, 422, "rejection"),
        ("/api/review/turns/{id}/label", {"intent": "two words"}, 422, "intent name"),
        ("/api/review/turns/{id}/label", {"label": "greet"}, 422, "intent"),
        ("/api/review/turns/{id}/verdict", {"verdict": "maybe"}, 422, "verdict"),
        ("/api/review/bulk", {"ids": [], "action": "correct"}, 422, "ids"),
        ("/api/review/bulk", {"ids": ["{id}"], "action": "relabel"}, 422, "needs the intent"),
    ],
)
def test_bad_review_requests_get_a_clear_4xx(
    review_client: TestClient, path: str, body: dict[str, Any], status: int, message: str
) -> None:
    target = str(turn_id(review_client, "hello"))
    body = {k: [target] if v == ["{id}"] else v for k, v in body.items()}

    response = review_client.post(path.replace("{id}", target), json=body, headers=BEARER)

    assert response.status_code == status, response.text
    assert re.search(message, response.text)


def test_bulk_actions_review_every_selected_turn(review_client: TestClient) -> None:
    ids = [t["id"] for t in turns(review_client, fallback_only="true")]

    response = review_client.post(
        "/api/review/bulk", json={"ids": ids, "action": "out_of_scope"}, headers=BEARER
    )

    assert response.json() == {"reviewed": 2}
    reviewed = turns(review_client, reviewed="true")
    assert {(t["verdict"], t["label"]) for t in reviewed} == {("out_of_scope", "out_of_scope")}


def test_undoing_a_review_returns_the_turn_to_the_inbox(review_client: TestClient) -> None:
    target = turn_id(review_client, "hello")
    review_client.post(
        f"/api/review/turns/{target}/verdict", json={"verdict": "ignored"}, headers=BEARER
    )

    review_client.delete(f"/api/review/turns/{target}/review", headers=BEARER)

    assert target in {t["id"] for t in turns(review_client, reviewed="false")}


def test_openapi_schema_documents_the_review_api(review_client: TestClient) -> None:
    paths = review_client.get("/openapi.json").json()["paths"]

    assert "/api/review/turns" in paths
    assert "/api/review/turns/{turn_id}/label" in paths
    assert "/review" not in paths


def login(client: TestClient) -> None:
    response = client.post(
        "/review/login",
        content=f"token={TOKEN}&next=/review",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie or "samesite=strict" in cookie.lower()
    assert TOKEN not in cookie


def test_login_sets_an_httponly_cookie_that_opens_the_inbox(review_client: TestClient) -> None:
    login(review_client)

    page = review_client.get("/review")

    assert page.status_code == 200
    assert "my parcel never arrived" in page.text
    assert page.text.index("my parcel never arrived") < page.text.index("hello")


def test_login_with_a_wrong_token_says_so(review_client: TestClient) -> None:
    response = review_client.post(
        "/review/login",
        content="token=nope",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )

    assert response.status_code == 401
    assert "not the review token" in response.text
    assert COOKIE not in response.headers.get("set-cookie", "")


def test_inbox_form_relabels_a_turn_and_rejects_a_missing_csrf_field(
    review_client: TestClient,
) -> None:
    login(review_client)
    target = turn_id(review_client, "my parcel never arrived")
    form = {"Content-Type": "application/x-www-form-urlencoded"}

    refused = review_client.post(
        f"/review/turns/{target}", content="action=relabel&intent=track_order", headers=form
    )
    done = review_client.post(
        f"/review/turns/{target}",
        content=f"action=relabel&intent_{target}=track_order&csrf={csrf_of(review_client)}&next=/review",
        headers=form,
        follow_redirects=False,
    )

    assert refused.status_code == 400
    assert done.status_code == 303
    assert done.headers["location"] == "/review"
    assert review_client.get(f"/api/review/turns/{target}", headers=BEARER).json()["label"] == (
        "track_order"
    )


def test_turn_page_shows_the_ranking_and_the_conversation(review_client: TestClient) -> None:
    login(review_client)
    target = turn_id(review_client, "track 1042")

    page = review_client.get(f"/review/turns/{target}")

    assert page.status_code == 200
    assert "e-mail address on the order" in page.text
    assert "my parcel never arrived" in page.text


def test_export_writes_reviewed_turns_as_rasa_yaml_and_lists_conflicts(
    review_client: TestClient, tmp_path: Path
) -> None:
    relabel(review_client, "my parcel never arrived", "track_order")
    mark(review_client, "hello", "correct")
    mark(review_client, "track 1042", "ignored")
    mark(review_client, "what's the weather on mars", "correct")
    relabel(review_client, "can I pay with crypto", "payment_crypto")
    data = tmp_path / "training_data"
    (data / "nlu").mkdir(parents=True)
    (data / "nlu" / "base.yml").write_text(
        'version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    - hi\n'
        "- intent: check_payment_methods\n  examples: |\n    - can I pay with crypto\n",
        encoding="utf-8",
    )
    engine = review_client.app.state.chat.store.engine  # type: ignore[attr-defined]

    result = export_annotations(engine, data / "annotated.yml", training_data=data)

    document = yaml.safe_load((data / "annotated.yml").read_text(encoding="utf-8"))
    assert document["version"] == "3.1"
    assert {(e.text, e.intent) for e in read_nlu(data / "annotated.yml").examples} == {
        ("my parcel never arrived", "track_order"),
        ("hello", "greet"),
        ("what's the weather on mars", "out_of_scope"),
    }
    assert [(c.text, c.intent, c.existing_intent) for c in result.conflicts] == [
        ("can I pay with crypto", "payment_crypto", "check_payment_methods")
    ]
    api = review_client.get("/api/review/export", headers=BEARER)
    assert api.status_code == 200
    assert "payment_crypto" in api.text


def test_analytics_counts_volume_fallbacks_handoffs_and_reviews(review_client: TestClient) -> None:
    relabel(review_client, "my parcel never arrived", "track_order")
    engine = review_client.app.state.chat.store.engine  # type: ignore[attr-defined]

    summary = summarise(engine, days=7)

    assert summary.turns == len(SCRIPT)
    assert summary.per_day[-1][1] == len(SCRIPT)
    assert summary.fallbacks == 2
    assert summary.fallback_rate == pytest.approx(0.4)
    assert summary.reviewed == 1
    assert summary.corrected == 1
    assert dict(summary.intents)["nlu_fallback"] == 2
    assert set(charts(summary)) == {"volume", "intents", "review"}
    assert all(svg.startswith("<svg") for svg in charts(summary).values())


def test_analytics_page_draws_inline_svg_charts(review_client: TestClient) -> None:
    login(review_client)

    page = review_client.get("/review/analytics")

    assert page.status_code == 200
    assert page.text.count("<svg") == 3
    assert re.search(r'(src|href)="(https?:)?//', page.text) is None  # nothing from a CDN
    assert 'id="kpi-fallback">40.0%' in page.text


PERSONAL = [
    ("my email is jane.doe+shop@example.co.uk, where is my order?", "jane.doe+shop@example.co.uk"),
    ("call me on +44 20 7946 0958 please", "7946 0958"),
    ("my number is (555) 123-4567", "123-4567"),
    ("phone 06 12 34 56 78 about the refund", "12 34 56 78"),
    ("text my mobile 07700 900123", "900123"),
    ("card 4111 1111 1111 1111 was charged twice", "4111 1111 1111 1111"),
    ("charged on 5500-0000-0000-0004 yesterday", "5500-0000-0000-0004"),
    ("amex 378282246310005 refund please", "378282246310005"),
]


def test_stored_transcripts_hold_no_personal_data_sent_through_the_webhook(
    make_client: AppFactory,
) -> None:
    with make_client() as client:
        use_review(client, TOKEN)
        for message, _ in PERSONAL:
            say(client, message, sender="pii")
        engine = client.app.state.chat.store.engine  # type: ignore[attr-defined]
        with engine.connect() as conn:
            stored = " ".join(
                str(v) for row in conn.execute(sql("SELECT * FROM bot_turns")) for v in row
            )
        listed = client.get("/api/review/turns", headers=BEARER).text

    for _, secret in PERSONAL:
        assert secret not in stored
        assert secret not in listed
    assert "[EMAIL]" in stored and "[PHONE]" in stored and "[CARD]" in stored


@pytest.mark.parametrize(
    ("kwargs", "model_dir", "follows"),
    [
        ({}, "models/default", True),
        ({}, "/srv/pinned-model", False),
        ({"registry_dir": Path("/srv/registry")}, "/srv/pinned-model", True),
    ],
)
def test_bot_follows_the_registry_only_for_its_own_models_or_when_told(
    kwargs: dict[str, Any], model_dir: str, follows: bool
) -> None:
    assert ReviewSettings(**kwargs).follows_registry(Path(model_dir)) is follows


def test_bulk_form_reviews_every_checked_turn(review_client: TestClient) -> None:
    login(review_client)
    ids = [turn_id(review_client, "hello"), turn_id(review_client, "track 1042")]
    body = "&".join(
        [f"ids={i}" for i in ids]
        + [
            f"csrf={csrf_of(review_client)}",
            "bulk_action=relabel",
            "bulk_intent=greet",
            "next=/review",
        ]
    )

    response = review_client.post(
        "/review/bulk",
        content=body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        follow_redirects=False,
    )

    assert response.status_code == 303
    labelled = {t["id"]: (t["verdict"], t["label"]) for t in turns(review_client, reviewed="true")}
    assert labelled == {ids[0]: ("correct", "greet"), ids[1]: ("relabeled", "greet")}


@pytest.mark.postgres
def test_reviews_list_and_analytics_work_on_postgresql() -> None:
    import uuid

    from sqlalchemy import delete

    from bot.review.store import TurnFilter, TurnReview, get_turn, list_turns, review_turns
    from bot.store import Conversation, TranscriptStore, Turn, TurnRecord

    db = TranscriptStore(PG_URL)
    if not db.ping():
        pytest.skip("PostgreSQL is not running on 127.0.0.1:5432")
    db.create_tables()
    sender = f"review-pg-{uuid.uuid4().hex[:8]}"
    intent = f"pg_intent_{uuid.uuid4().hex[:6]}"
    ids: list[int] = []
    try:
        for text, confidence in [("first", 0.9), ("second", 0.2)]:
            held = db.acquire(sender)
            parse = {"text": text, "intent": {"name": intent, "confidence": confidence}}
            record = TurnRecord(text, parse, "pg-model", [], [], None, 1.0)
            ids.append(db.save(held, {}, record))

        review_turns(db.engine, ids, "correct")
        review_turns(db.engine, [ids[1]], "relabeled", intent="track_order")  # upsert
        items, total = list_turns(db.engine, TurnFilter(intent=intent))
        summary = summarise(db.engine, days=2)

        assert total == 2
        assert [(t["text"], t["verdict"], t["label"]) for t in items] == [
            ("second", "relabeled", "track_order"),
            ("first", "correct", intent),
        ]
        assert [c["text"] for c in get_turn(db.engine, ids[0])["context"]] == ["first", "second"]
        assert summary.per_day[-1][1] >= 2
        assert dict(summary.models)["pg-model"] >= 2
    finally:
        with db.engine.begin() as conn:
            conn.execute(delete(TurnReview).where(TurnReview.turn_id.in_(ids)))
            conn.execute(delete(Turn).where(Turn.sender_id == sender))
            conn.execute(delete(Conversation).where(Conversation.sender_id == sender))
        db.dispose()


def test_analytics_counts_off_topic_turns_as_fallbacks(review_client: TestClient) -> None:
    review_client.headers["Authorization"] = f"Bearer {WEBHOOK_TOKEN}"
    say(review_client, "/out_of_scope", sender="bob")
    engine = review_client.app.state.chat.store.engine  # type: ignore[attr-defined]

    summary = summarise(engine, days=7)

    assert dict(summary.intents)["out_of_scope"] == 1
    assert summary.fallbacks == 3
