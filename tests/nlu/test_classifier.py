"""IntentClassifier: loading, the parse result's shape, rejection, and the predict CLI."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest

from core.wire import FALLBACK_INTENT
from nlu.artifact import ARTIFACT_FILE, ArtifactMeta, NotAModelError
from nlu.classifier import BadMessageError, IntentClassifier
from shopintent.cli import main

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def tiny(tiny_model: Path) -> IntentClassifier:
    return IntentClassifier.load(tiny_model)


@pytest.fixture(scope="module")
def shop(shop_model: Path) -> IntentClassifier:
    return IntentClassifier.load(shop_model)


def test_parse_returns_rasa_parse_result_shape(tiny: IntentClassifier) -> None:
    result = tiny.parse("where is my order 00123842?")

    assert set(result) == {"text", "intent", "intent_ranking", "entities"}
    assert result["text"] == "where is my order 00123842?"
    assert set(result["intent"]) == {"name", "confidence"}
    assert 0.0 <= result["intent"]["confidence"] <= 1.0
    ranking = result["intent_ranking"]
    assert 1 <= len(ranking) <= 10
    assert [r["confidence"] for r in ranking] == sorted(
        (r["confidence"] for r in ranking), reverse=True
    )
    assert {r["name"] for r in ranking} <= set(tiny.labels)
    entity = next(e for e in result["entities"] if e["entity"] == "order_id")
    assert entity["value"] == "00123842"
    assert result["text"][entity["start"] : entity["end"]] == "00123842"
    assert entity["extractor"]


def test_parse_batch_matches_parse_one_by_one(tiny: IntentClassifier) -> None:
    texts = ["hi", "track order 4411", "i want my money back", "bye", "tell me a joke"]

    batch = tiny.parse_batch(texts)

    single = [tiny.parse(t) for t in texts]
    assert [b["intent"]["name"] for b in batch] == [s["intent"]["name"] for s in single]
    for b, s in zip(batch, single, strict=True):
        assert b["intent"]["confidence"] == pytest.approx(s["intent"]["confidence"], abs=1e-4)


def test_tiny_model_classifies_its_training_style_messages(tiny: IntentClassifier) -> None:
    names = [r["intent"]["name"] for r in tiny.parse_batch(["hello", "refund please", "bye"])]

    assert names == ["greet", "get_refund", "goodbye"]


def test_labels_and_version_come_from_the_artifact(
    tiny: IntentClassifier, tiny_model: Path
) -> None:
    meta = ArtifactMeta.load(tiny_model)

    assert tiny.labels == meta.labels
    assert "out_of_scope" in tiny.labels
    assert tiny.version == meta.model_version
    assert meta.data_hash[:8] in tiny.version


def test_entities_use_lookups_saved_in_the_artifact(tiny: IntentClassifier) -> None:
    entities = tiny.parse("is the mascra from essence any good?")["entities"]

    assert ("product", "mascara") in {(e["entity"], e["value"]) for e in entities}


@pytest.mark.parametrize("bad", [None, 42, b"bytes"])
def test_parse_with_non_string_raises_bad_message_error(
    tiny: IntentClassifier, bad: object
) -> None:
    with pytest.raises(BadMessageError, match="expected a string"):
        tiny.parse(bad)  # type: ignore[arg-type]


def test_empty_message_comes_back_as_fallback(tiny: IntentClassifier) -> None:
    result = tiny.parse("   ")

    assert result["intent"]["name"] == FALLBACK_INTENT
    assert result["intent_ranking"]


def test_parse_batch_of_nothing_is_empty(tiny: IntentClassifier) -> None:
    assert tiny.parse_batch([]) == []


def test_load_dir_without_artifact_json_raises_not_a_model(
    tiny_model: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "model"
    shutil.copytree(tiny_model, copy)
    (copy / ARTIFACT_FILE).unlink()

    with pytest.raises(NotAModelError, match=r"is not a shopintent model.*shopintent train"):
        IntentClassifier.load(copy)


def test_predict_cli_without_artifact_exits_2_with_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "config.json").write_text("{}")

    code = main(["predict", "hi", "--model", str(tmp_path)])

    assert code == 2
    assert "not a shopintent model" in capsys.readouterr().err


def test_predict_cli_prints_parse_result_json(
    tiny_model: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["predict", "track order 4411", "--model", str(tiny_model)])

    out = json.loads(capsys.readouterr().out)
    assert code == 0
    assert out["text"] == "track order 4411"
    assert {"intent", "intent_ranking", "entities"} <= set(out)


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("hi", "greet"),
        ("hello there", "greet"),
        ("where is my order?", "track_order"),
        ("can I return it?", "check_refund_policy"),
        ("I want a refund", "get_refund"),
        ("talk to a human", "contact_human_agent"),
        ("thanks a lot", "thank_you"),
        ("bye", "goodbye"),
        ("cancel my order please", "cancel_order"),
    ],
)
def test_shop_model_classifies_simple_shop_messages(
    shop: IntentClassifier, text: str, intent: str
) -> None:
    assert shop.parse(text)["intent"]["name"] == intent


@pytest.mark.parametrize(
    "text", ["what's the weather in Paris", "who won the world cup in 2018", "play some jazz"]
)
def test_shop_model_rejects_off_topic_messages(shop: IntentClassifier, text: str) -> None:
    result = shop.parse(text)

    assert result["intent"]["name"] in {FALLBACK_INTENT, "out_of_scope"}
    assert result["intent_ranking"][0]["name"] in shop.labels


def test_parse_of_one_message_is_fast_on_cpu(shop: IntentClassifier) -> None:
    shop.parse("warm up")
    timings = []
    for _ in range(15):
        started = time.perf_counter()
        shop.parse("where is my order 4411?")
        timings.append(time.perf_counter() - started)

    # Generous bound for a shared CI machine; docs/benchmarks.md has the real p50/p95.
    assert sorted(timings)[len(timings) // 2] < 0.25
