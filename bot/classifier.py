"""The bot's view of the NLU model: load it, and batch concurrent messages per forward pass."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from bot.errors import ModelNotFoundError
from bot.types import ParseResult

logger = logging.getLogger(__name__)


@runtime_checkable
class Classifier(Protocol):
    """What the bot needs from `nlu.IntentClassifier`."""

    @property
    def version(self) -> str:
        """The model's version string (stored with every turn)."""

    def parse(self, text: str) -> Any:
        """Return the parse result (`ParseResult` shape) of one message."""


def require_model(model_dir: Path) -> None:
    """Check that `model_dir` holds a trained model.

    Raises:
        ModelNotFoundError: It does not.
    """
    if not (model_dir / "shopintent.json").is_file():
        raise ModelNotFoundError(
            f"expected a trained model in {model_dir} (with shopintent.json), found none; "
            f"train one with `shopintent train --data training_data --output {model_dir}` "
            "or set SHOPINTENT_MODEL_DIR"
        )


def load_classifier(model_dir: Path) -> Classifier:
    """Load the trained model from `model_dir` with `nlu.IntentClassifier`.

    Args:
        model_dir: A folder written by `shopintent train`.

    Returns:
        The loaded classifier.

    Raises:
        ModelNotFoundError: The folder does not hold a trained model.
    """
    require_model(model_dir)
    from nlu.classifier import IntentClassifier
    from nlu.config import get_settings as nlu_settings

    # One short message gains little from intra-op threads, and the bot shares the
    # CPU with the action server: several threads spin against each other under load
    # (measured 39 ms per parse with 1 thread vs 550 ms with 2 on a busy 2-core box).
    threads = nlu_settings().nlu_threads or 1
    classifier: Classifier = IntentClassifier.load(model_dir, num_threads=threads)
    return classifier


class BatchingClassifier:
    """Runs a classifier in a worker thread, batching messages that arrive together.

    Under load, messages waiting while a forward pass runs go into the next pass
    together (`parse_batch`), which costs little more than one message. Only one
    pass runs at a time, so the CPU cores are not oversubscribed.

    Args:
        classifier: The loaded model.
        max_batch: The most messages in one forward pass.
    """

    def __init__(self, classifier: Classifier, max_batch: int = 32) -> None:
        self.classifier = classifier
        self.max_batch = max_batch
        self._queue: asyncio.Queue[tuple[str, asyncio.Future[ParseResult]]] | None = None
        self._worker: asyncio.Task[None] | None = None

    @property
    def version(self) -> str:
        """The model's version string."""
        return str(getattr(self.classifier, "version", "unknown"))

    @property
    def degraded_reason(self) -> str | None:
        """Why an older model than the promoted one answers (None when all is well)."""
        reason = getattr(self.classifier, "degraded_reason", None)
        return str(reason) if reason else None

    async def parse(self, text: str) -> ParseResult:
        """Classify one message (waits for its batch)."""
        if self._queue is None or self._worker is None or self._worker.done():
            self._queue = asyncio.Queue()
            self._worker = asyncio.get_running_loop().create_task(self._run(self._queue))
        future: asyncio.Future[ParseResult] = asyncio.get_running_loop().create_future()
        await self._queue.put((text, future))
        return await future

    async def aclose(self) -> None:
        """Stop the worker task."""
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
            self._worker = None

    def _parse_many(self, texts: list[str]) -> list[ParseResult]:
        parse_batch = getattr(self.classifier, "parse_batch", None)
        if parse_batch is not None and len(texts) > 1:
            return list(parse_batch(texts))
        return [self.classifier.parse(t) for t in texts]

    async def _run(self, queue: asyncio.Queue[tuple[str, asyncio.Future[ParseResult]]]) -> None:
        while True:
            batch = [await queue.get()]
            while len(batch) < self.max_batch and not queue.empty():
                batch.append(queue.get_nowait())
            texts = [text for text, _ in batch]
            try:
                results = await asyncio.to_thread(self._parse_many, texts)
            except Exception as exc:
                logger.exception("the classifier failed on a batch of %d", len(batch))
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for (_, future), result in zip(batch, results, strict=True):
                if not future.done():
                    future.set_result(result)
