"""Shared fixtures: small real models, fine-tuned once and cached on disk.

Models are cached under `.pytest_cache/shopintent-models/<hash>`, where the hash
covers the training data, the settings and the nlu code that shapes the artifact,
so a rerun reuses them and any change retrains.
"""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import fcntl
import hashlib
import importlib
import json
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType

import httpx
import pytest

ROOT = Path(__file__).resolve().parent.parent
MODEL_CACHE = ROOT / ".pytest_cache" / "shopintent-models"
# Code whose changes must retrain the cached models.
_ARTIFACT_CODE = (
    "training.py",
    "training_data.py",
    "fine_tuning.py",
    "training_artifact.py",
    "artifact.py",
    "calibration.py",
    "pooling.py",
    "classifier.py",
    "entities.py",
    "config.py",
    "export.py",
    "backends.py",
)

TINY_INTENTS: dict[str, list[str]] = {
    "greet": [
        "hi",
        "hello",
        "hey there",
        "good morning",
        "hello, anyone there?",
        "hi team",
        "good evening",
        "hey",
        "hiya",
        "greetings",
        "morning!",
        "hello friend",
    ],
    "track_order": [
        "where is my order [00123842](order_id)?",
        "track order [4411](order_id)",
        "has my package shipped yet",
        "when will my order arrive",
        "order status please",
        "where is my parcel",
        "is order [ORD-5521](order_id) on its way",
        "track my delivery",
        "my order hasn't arrived",
        "what's the status of my order",
        "can you track my shipment",
        "where's my stuff",
    ],
    "get_refund": [
        "i want my money back",
        "refund please",
        "how do i get a refund",
        "can i return this and get a refund",
        "i'd like to be reimbursed",
        "give me a refund for order [7781](order_id)",
        "return the item for a refund",
        "request a refund",
        "money back for my purchase",
        "i want to return it",
        "refund my payment",
        "get my money back",
    ],
    "product_search": [
        "do you sell [mascara](product)?",
        "show me [sofas](product) under $500",
        "i'm looking for [lipstick](product)",
        "any [laptops](product) in stock",
        "search for running shoes",
        "do you have [Essence Mascara Lash Princess](product)",
        "find me a cheap phone",
        "looking for a gift under $50",
        "what [furniture](category) do you have",
        "show me [beauty](category) products",
        "i need a new bag",
        "browse [smartphones](category)",
    ],
    "goodbye": [
        "bye",
        "goodbye",
        "see you",
        "that's all, bye",
        "talk later",
        "cya",
        "bye bye",
        "have a nice day",
        "see you soon",
        "i'm done, goodbye",
        "later",
        "farewell",
    ],
    "out_of_scope": [
        "what's the weather tomorrow",
        "tell me a joke",
        "who won the football game",
        "how tall is mount everest",
        "play some music",
        "what is the capital of france",
        "set an alarm for 7am",
        "translate hello into spanish",
        "how do i bake bread",
        "what's 15 times 12",
        "book a flight to rome",
        "who is the president",
    ],
}

TINY_TEST: dict[str, list[str]] = {
    "greet": ["hello there", "hi!"],
    "track_order": ["where is order [55123](order_id)", "track my package"],
    "get_refund": ["i want a refund", "refund me please"],
    "product_search": ["do you have lipstick", "show me laptops"],
    "goodbye": ["bye now", "see you later"],
    "out_of_scope": ["what's the time in tokyo", "sing me a song"],
}

TINY_SIDE_TABLES = """
- lookup: product
  examples: |
    - Essence Mascara Lash Princess
    - Annibale Colombo Sofa
    - Apple MacBook Pro 14 Inch Space Grey
- lookup: category
  examples: |
    - beauty
    - furniture
    - smartphones
- synonym: smartphones
  examples: |
    - phones
"""

# Intents of the shop model the bot's end-to-end tests rely on.
SHOP_INTENTS = (
    "greet",
    "goodbye",
    "thank_you",
    "affirm",
    "deny",
    "track_order",
    "cancel_order",
    "check_refund_policy",
    "get_refund",
    "contact_human_agent",
    "product_search",
    "product_info",
    "recommend_product",
    "delivery_options",
    "out_of_scope",
)
SHOP_PER_INTENT = 60
# The shipped track_order/refund examples almost all carry an order id; shoppers open
# with the short form too. These few paraphrases (none identical to a test message)
# fill that gap until the data has them.
SHOP_SUPPLEMENT: dict[str, list[str]] = {
    "track_order": [
        "where's my order",
        "where is my package",
        "track my order please",
        "has my order shipped yet",
        "when will my order arrive",
        "what's the status of my order",
        "my order hasn't arrived",
        "where is my parcel",
    ],
    "check_refund_policy": [
        "can I return this?",
        "can i send it back",
        "what is your return policy",
        "can i return an item",
        "are returns free",
        "how many days do i have to return something",
    ],
    "get_refund": [
        "i want my money back",
        "refund my purchase please",
        "can i get a refund",
        "i'd like a refund for my order",
    ],
}


def rasa_yaml(intents: dict[str, list[str]], side_tables: str = "") -> str:
    """Render intents (and optional lookup/synonym blocks) as Rasa 3.1 NLU YAML."""
    lines = ['version: "3.1"', "nlu:"]
    for intent, examples in intents.items():
        lines += [f"- intent: {intent}", "  examples: |"]
        lines += [f"    - {ex}" for ex in examples]
    return "\n".join(lines) + "\n" + side_tables


def free_port() -> int:
    """Return a TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def stop(proc: subprocess.Popen[bytes]) -> None:
    """Terminate a server process, killing it when it has not exited after 10 s."""
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def tail(log: Path, chars: int = 3000) -> str:
    """The end of a server's log file, for failure messages."""
    return log.read_text(encoding="utf-8", errors="replace")[-chars:]


def wait_for(
    url: str,
    timeout_s: float = 60.0,
    proc: subprocess.Popen[bytes] | None = None,
    log: Path | None = None,
) -> None:
    """Poll `url` until it answers 200, or fail the test with the server's output.

    The output is the end of `log` when the server writes there, else what `proc` piped
    (its stdout, or its stderr when only that is a pipe).
    """

    def output() -> str:
        if log is not None:
            return tail(log)
        piped = proc and (proc.stdout or proc.stderr)
        return piped.read().decode(errors="replace")[-3000:] if piped else ""

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            pytest.fail(f"server for {url} exited with {proc.returncode}:\n{output()}")
        try:
            if httpx.get(url, timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    pytest.fail(
        f"{url} did not answer 200 within {timeout_s:.0f}s" + (f":\n{tail(log)}" if log else "")
    )


@contextmanager
def running(
    cmd: list[str],
    health_url: str,
    env: dict[str, str] | None = None,
    *,
    log: Path | None = None,
    timeout_s: float = 60.0,
) -> Iterator[None]:
    """Run a server process for the duration of the block, then stop it.

    Its output goes to `log` when given (a pipe nobody reads could stall a busy server).
    """
    out = log.open("wb") if log is not None else None
    proc = subprocess.Popen(
        cmd,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        stdout=out or subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    if out is not None:
        out.close()  # the server holds its own copy
    try:
        wait_for(health_url, timeout_s, proc=proc, log=log)
        yield
    finally:
        stop(proc)


def load_builder() -> ModuleType:
    """The training-data builder package behind `scripts/build_training_data.py`."""
    return importlib.import_module("scripts.training_data_builder")


def _code_hash() -> str:
    digest = hashlib.sha256()
    for name in _ARTIFACT_CODE:
        digest.update((ROOT / "nlu" / name).read_bytes())
    return digest.hexdigest()


def cached_model(key: object, build: Callable[[Path], None]) -> Path:
    """Return a cached model dir for `key`, calling `build(output_dir)` on a miss."""
    blob = json.dumps(key, sort_keys=True, default=str) + _code_hash()
    path = MODEL_CACHE / hashlib.sha256(blob.encode()).hexdigest()[:16]
    if (path / "shopintent.json").is_file():
        os.utime(path)  # marks it as in use, so pruning keeps it
        return path
    MODEL_CACHE.mkdir(parents=True, exist_ok=True)
    # Several pytest sessions share the working tree: the first trains, the others wait.
    with (MODEL_CACHE / f"{path.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not (path / "shopintent.json").is_file():
                if path.exists():
                    shutil.rmtree(path)
                build(path)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    _prune(MODEL_CACHE, keep=path)
    return path


def _prune(cache: Path, keep: Path, max_age_s: float = 24 * 3600) -> None:
    """Drop cached models untouched for a day (older code or data; ~90 MB each)."""
    now = time.time()
    for entry in cache.iterdir():
        if entry.is_dir() and entry != keep and now - entry.stat().st_mtime > max_age_s:
            shutil.rmtree(entry, ignore_errors=True)
            (cache / f"{entry.name}.lock").unlink(missing_ok=True)


@pytest.fixture(scope="session")
def tiny_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small Rasa project: `nlu/` (6 intents incl. out_of_scope, lookups) and `test/`."""
    root = tmp_path_factory.mktemp("tiny-data")
    (root / "nlu").mkdir()
    (root / "test").mkdir()
    (root / "nlu" / "nlu.yml").write_text(rasa_yaml(TINY_INTENTS, TINY_SIDE_TABLES))
    (root / "test" / "nlu.yml").write_text(rasa_yaml(TINY_TEST))
    return root


@pytest.fixture(scope="session")
def tiny_data_no_oos(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny data without any out-of-scope examples."""
    root = tmp_path_factory.mktemp("tiny-data-no-oos")
    intents = {k: v for k, v in TINY_INTENTS.items() if k != "out_of_scope"}
    (root / "nlu.yml").write_text(rasa_yaml(intents))
    return root


def _tiny_config(data: Path, **overrides: object) -> dict[str, object]:
    settings: dict[str, object] = {
        "data": [str(data)],
        "num_hidden_layers": 2,
        "epochs": 20,
        "batch_size": 8,
        "learning_rate": 5e-4,
        "num_threads": 1,
        "max_length": 32,
        "validation_fraction": 0.2,
        "seed": 13,
        "device": "cpu",
        # One training run per fixture keeps the suite fast; refitting is tested on its own.
        "refit": False,
    }
    settings.update(overrides)
    return settings


def _train_from(settings: dict[str, object]) -> Callable[[Path], None]:
    def build(out: Path) -> None:
        from nlu.config import TrainConfig
        from nlu.training import train

        train(TrainConfig(**settings, output_dir=str(out)))  # type: ignore[arg-type]

    return build


# Settings of a quick warm-start retrain of `tiny_model`.
QUICK_RETRAIN = {
    "refit": False,
    "epochs": 3,
    "learning_rate": 2e-4,
    "batch_size": 16,
    "max_length": 32,
    "validation_fraction": 0.2,
    "seed": 13,
    "device": "cpu",
}


def write_quick_config(folder: Path) -> Path:
    """Write `QUICK_RETRAIN` to `folder/retrain.json` (for `retrain --config`) and return it."""
    path = folder / "retrain.json"
    path.write_text(json.dumps(QUICK_RETRAIN), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def tiny_model(tiny_data: Path) -> Path:
    """A 2-layer MiniLM fine-tuned on `tiny_data` (with OOS examples); cached on disk."""
    settings = _tiny_config(tiny_data)
    key = {
        "settings": settings | {"data": None},
        "data": (tiny_data / "nlu" / "nlu.yml").read_text(),
    }
    return cached_model(key, _train_from(settings))


@pytest.fixture(scope="session")
def tiny_model_no_oos(tiny_data_no_oos: Path) -> Path:
    """A 1-layer model trained on data without OOS examples (softmax rejection)."""
    settings = _tiny_config(tiny_data_no_oos, num_hidden_layers=1, epochs=10, oos_method="softmax")
    key = {
        "settings": settings | {"data": None},
        "data": (tiny_data_no_oos / "nlu.yml").read_text(),
    }
    return cached_model(key, _train_from(settings))


@pytest.fixture(scope="session")
def shop_model() -> Path:
    """A full 6-layer model trained on 15 intents of the shipped training data.

    Classifies simple shop messages ("hi", "where is my order?", "can I return it?",
    "talk to a human") and rejects off-topic ones ("what's the weather in Paris").
    Carries the shipped lookups, so product/brand/category entities work too.
    """
    import random

    from nlu.data import read_splits
    from nlu.entities import build_entity_config
    from nlu.training import LabelledTexts, prepare_data

    data = read_splits(ROOT / "training_data")["train"]
    rng = random.Random(7)
    chosen = []
    for intent in SHOP_INTENTS:
        examples = [e for e in data.examples if e.intent == intent]
        chosen.extend(rng.sample(examples, min(SHOP_PER_INTENT, len(examples))))
    settings: dict[str, object] = {
        "data": ["training_data"],
        "epochs": 6,
        "batch_size": 16,
        "learning_rate": 2e-4,
        "max_length": 32,
        "seed": 7,
        "device": "cpu",
    }
    texts = [e.text for e in chosen] + [t for ts in SHOP_SUPPLEMENT.values() for t in ts]
    labels = [e.intent for e in chosen] + [i for i, ts in SHOP_SUPPLEMENT.items() for _ in ts]
    key = {
        "settings": dict(settings),
        "examples": sorted(zip(texts, labels, strict=True)),
        "side": [data.lookups, data.synonyms, data.regexes],
    }

    def build(out: Path) -> None:
        from nlu.config import TrainConfig
        from nlu.training import train

        # One thread: on a machine shared with other test sessions, more threads only contend.
        config = TrainConfig(**settings, num_threads=1, output_dir=str(out))  # type: ignore[arg-type]
        entities = build_entity_config(
            data.lookups,
            data.synonyms,
            data.regexes,
            [(e.text, e.intent, [(s.start, s.end) for s in e.entities]) for e in data.examples],
        )
        prepared = prepare_data(
            LabelledTexts(texts, labels),
            validation_fraction=config.validation_fraction,
            seed=config.seed,
            entities=entities,
        )
        train(config, prepared)

    return cached_model(key, build)
