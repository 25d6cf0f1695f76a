"""The model provider batches for models that batch, and runs int8-style models side by side."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Sequence
from typing import Any

from bot.model import ModelProvider


class CountingClassifier:
    """Answers with the text as the intent and records how it was called."""

    version = "counting"

    def __init__(self, batch_size: int, delay_s: float = 0.05) -> None:
        self.batch_size = batch_size
        self.delay_s = delay_s
        self.calls: list[list[str]] = []
        self.running = 0
        self.most_running = 0
        self._lock = threading.Lock()

    def parse(self, text: str) -> dict[str, Any]:
        return self.parse_batch([text])[0]

    def parse_batch(self, texts: Sequence[str]) -> list[dict[str, Any]]:
        with self._lock:
            self.calls.append(list(texts))
            self.running += 1
            self.most_running = max(self.most_running, self.running)
        time.sleep(self.delay_s)
        with self._lock:
            self.running -= 1
        return [
            {
                "text": t,
                "intent": {"name": t, "confidence": 1.0},
                "intent_ranking": [],
                "entities": [],
            }
            for t in texts
        ]


def _parse_together(provider: ModelProvider, texts: list[str]) -> list[str]:
    async def go() -> list[str]:
        try:
            results = await asyncio.gather(*(provider.parse(t) for t in texts))
            return [r["intent"]["name"] for r in results]
        finally:
            await provider.aclose()

    return asyncio.run(go())


def test_one_message_models_run_side_by_side_never_batched() -> None:
    model = CountingClassifier(batch_size=1)
    provider = ModelProvider(lambda: model, parallel=2)
    texts = [f"m{i}" for i in range(6)]
    assert _parse_together(provider, texts) == texts
    assert all(len(call) == 1 for call in model.calls)
    assert model.most_running == 2  # two at a time, never more


def test_batching_models_get_the_waiting_messages_as_one_batch() -> None:
    model = CountingClassifier(batch_size=32)
    provider = ModelProvider(lambda: model)
    texts = [f"m{i}" for i in range(6)]
    assert _parse_together(provider, texts) == texts
    assert model.most_running == 1
    assert max(len(call) for call in model.calls) > 1
    assert sorted(t for call in model.calls for t in call) == sorted(texts)
