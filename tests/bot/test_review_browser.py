"""The whole loop in a real browser: review a misclassified turn, export, retrain, hot-reload.

A bot serving `tiny_model` runs under uvicorn; a scripted conversation goes through the
webhook; headless Chromium logs into /review, finds a turn the model got wrong and
relabels it; the test exports the reviews, retrains (warm start, tiny config), and the
running bot then answers that message correctly with the new model version, without a
restart and without failing a request meanwhile. Screenshots and the retrain table go
to reports/ (gitignored).
"""

from __future__ import annotations

import json
import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.app import create_app
from bot.settings import BotSettings
from nlu.artifact import ArtifactMeta
from nlu.data import read_nlu
from shopintent.cli import main
from tests.bot.conftest import DOMAIN, POLICY, serving, use_review, watch_csp
from tests.conftest import write_quick_config

pytestmark = [pytest.mark.slow, pytest.mark.browser]

REPO = Path(__file__).resolve().parents[2]
REPORTS = REPO / "reports"
TOKEN = "browser-review-token-of-at-least-32-chars"
WEBHOOK_TOKEN = "browser-webhook-token"

# Messages of the scripted conversation and the intent each one really has. The tiny
# model has seen none of these phrasings, so it gets some of them wrong.
SCRIPT = {
    "hi": "greet",
    "my parcel is lost somewhere, can you locate it": "track_order",
    "when does my stuff get here": "track_order",
    "cheerio mate": "goodbye",
    "got anything like sneakers for running?": "product_search",
    "my delivery has gone walkabout": "track_order",
    "any chance of a few quid back?": "get_refund",
    "ta-ra for now": "goodbye",
}


@dataclass
class LiveBot:
    url: str
    data: Path
    registry: Path
    database_url: str

    def say(self, text: str, sender: str) -> httpx.Response:
        return httpx.post(
            f"{self.url}/webhooks/rest/webhook",
            json={"sender": sender, "message": text},
            headers={"Authorization": f"Bearer {WEBHOOK_TOKEN}"},
            timeout=60,
        )

    def api(self, path: str, **params: Any) -> Any:
        response = httpx.get(
            f"{self.url}/api/review{path}",
            params=params,
            headers={"Authorization": f"Bearer {TOKEN}"},
            timeout=30,
        )
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture
def live_bot(
    tiny_model: Path, tiny_data: Path, test_action_server: str, tmp_path: Path
) -> Iterator[LiveBot]:
    """The bot under uvicorn, serving `tiny_model`, following a fresh model registry."""
    data = tmp_path / "training_data"
    shutil.copytree(tiny_data / "nlu", data / "nlu")
    shutil.copytree(tiny_data / "test", data / "test")
    database_url = f"sqlite:///{tmp_path / 'bot.db'}"
    settings = BotSettings(
        database_url=database_url,
        action_endpoint=test_action_server,
        domain_path=DOMAIN,
        policy_path=POLICY,
        model_dir=tiny_model,
        webhook_token=WEBHOOK_TOKEN,
    )
    registry = tmp_path / "models"
    app = create_app(settings)
    use_review(app, TOKEN, registry_dir=registry, model_reload_s=0.2)
    with serving(app, timeout_s=120) as url:
        yield LiveBot(url, data, registry, database_url)


class Traffic:
    """Shoppers chatting in the background; records every status code."""

    def __init__(self, bot: LiveBot) -> None:
        self.bot = bot
        self.results: list[tuple[int, str | None]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        n = 0
        while not self._stop.is_set():
            n += 1
            response = self.bot.say("where is my parcel", sender=f"traffic-{n}")
            self.results.append((response.status_code, None))
            self._stop.wait(0.3)

    def __enter__(self) -> Traffic:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=60)


def test_reviewer_relabels_a_misclassified_turn_and_the_retrained_model_answers_it(
    live_bot: LiveBot,
    chromium: Any,
    tiny_model: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # 1. A scripted conversation through the webhook.
    for text in SCRIPT:
        assert live_bot.say(text, sender="shopper-1").status_code == 200
    old_version = ArtifactMeta.load(tiny_model).model_version
    listed = live_bot.api("/turns", reviewed="false")["items"]
    assert {t["model_version"] for t in listed} == {old_version}
    wrong = [t for t in listed if t["intent"] != SCRIPT[t["text"]]]
    assert wrong, f"the tiny model got every scripted message right: {listed}"
    target = wrong[0]  # the least confident mistake
    truth = SCRIPT[target["text"]]

    # 2. The reviewer logs in, finds the turn in the inbox and relabels it.
    screenshots = REPORTS / "screenshots"
    screenshots.mkdir(parents=True, exist_ok=True)
    page = chromium.new_page(viewport={"width": 1400, "height": 900})
    violations = watch_csp(page)  # the review pages run under the bot's CSP
    response = page.goto(f"{live_bot.url}/review")
    assert response is not None and response.status == 401
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page.fill("#token", TOKEN)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_bot.url}/review")
    row = page.locator(f"tr#turn-{target['id']}")
    assert row.locator(".message").inner_text() == target["text"]
    assert row.locator(".intent").inner_text() == target["intent"]
    page.screenshot(path=str(screenshots / "review-inbox.png"), full_page=True)
    row.locator(f"input[name=intent_{target['id']}]").fill(truth)
    row.locator("button[value=relabel]").click()
    page.wait_for_load_state()
    assert page.locator(f"tr#turn-{target['id']}").count() == 0  # left the unreviewed inbox
    page.goto(f"{live_bot.url}/review?reviewed=yes")
    reviewed = page.locator(f"tr#turn-{target['id']}")
    assert "relabeled" in reviewed.inner_text()
    assert truth in reviewed.inner_text()
    page.goto(f"{live_bot.url}/review/turns/{target['id']}")
    page.screenshot(path=str(screenshots / "review-turn.png"), full_page=True)

    # 3. Export the reviews as training data.
    annotated = live_bot.data / "annotated.yml"
    assert (
        main(
            [
                "review",
                "export",
                "--database-url",
                live_bot.database_url,
                "--out",
                str(annotated),
                "--training-data",
                str(live_bot.data),
            ]
        )
        == 0
    )
    assert [(e.text, e.intent) for e in read_nlu(annotated).examples] == [(target["text"], truth)]

    # 4. Retrain with the gate while shoppers keep chatting; the bot hot-reloads.
    config = write_quick_config(tmp_path)
    capsys.readouterr()
    with Traffic(live_bot) as traffic:
        code = main(
            [
                "retrain",
                "--data",
                str(live_bot.data / "nlu"),
                "--annotations",
                str(annotated),
                "--test-data",
                str(live_bot.data / "test"),
                "--registry",
                str(live_bot.registry),
                "--baseline",
                str(tiny_model),
                "--warm-start",
                "--annotation-repeat",
                "4",
                "--config",
                str(config),
            ]
        )
        printed = capsys.readouterr().out
        (REPORTS / "retrain-comparison.txt").write_text(printed, encoding="utf-8")
        with capsys.disabled():
            print("\n" + printed)
        assert code == 0, printed
        new_version = json.loads((live_bot.registry / "registry.json").read_text())["current"]
        assert new_version != old_version
        deadline = time.monotonic() + 60
        while live_bot.api("/model")["model_version"] != new_version:
            assert time.monotonic() < deadline, "the bot did not switch to the promoted model"
            time.sleep(0.2)
    assert traffic.results and all(status == 200 for status, _ in traffic.results)

    # 5. The same message now gets the reviewed intent, from the new model version.
    assert live_bot.say(target["text"], sender="shopper-2").status_code == 200
    again = [t for t in live_bot.api("/turns", intent=truth)["items"] if t["sender"] == "shopper-2"]
    assert [(t["text"], t["model_version"]) for t in again] == [(target["text"], new_version)]

    # 6. The analytics page shows both model versions.
    page.goto(f"{live_bot.url}/review/analytics")
    assert page.locator("figure.chart svg").count() == 3
    assert new_version in page.content() and old_version in page.content()
    page.screenshot(path=str(screenshots / "review-analytics.png"), full_page=True)
    page.goto(f"{live_bot.url}/review?reviewed=all")
    page.screenshot(path=str(screenshots / "review-inbox-after.png"), full_page=True)
    assert violations == [], violations

    # 7. Logging out ends the session: the inbox asks for the token again.
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(f"{live_bot.url}/review/login")
    again = page.goto(f"{live_bot.url}/review")
    assert again is not None and again.status == 401
