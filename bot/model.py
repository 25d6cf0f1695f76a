"""The bot's NLU model: one provider that loads it, follows promotions, and batches.

`ModelProvider.load(model_dir, review)` loads the model registry's current version
(or `model_dir` while none is promoted) with `nlu.IntentClassifier` on the backend
`SHOPINTENT_NLU_BACKEND` picks (int8 ONNX by default when the artifact has it), and
keeps following the registry: each call costs at most one `stat` of
`models/registry.json` every `SHOPINTENT_MODEL_RELOAD_S` seconds; a newly promoted
model loads in a background thread while the old one keeps answering, and only
serves once it parsed one message. At start-up a broken current version falls back
to the last good one, and `degraded_reason` says so.

`parse(text)` runs in one worker task: messages that arrive while a forward pass runs
go into the next pass together (`parse_batch`), which costs little more than one
message, and only one pass runs at a time, so the cores are not oversubscribed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from bot.errors import ModelNotFoundError, ModelRegistryError
from core.paths import ARTIFACT_FILE
from core.wire import ParseResult

if TYPE_CHECKING:
    from bot.review.settings import ReviewSettings
    from nlu.registry import LiveModel

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
    if not (model_dir / ARTIFACT_FILE).is_file():
        raise ModelNotFoundError(
            f"expected a trained model in {model_dir} (with {ARTIFACT_FILE}), found none; "
            f"train one with `shopintent train --data training_data --output {model_dir}` "
            "or set SHOPINTENT_MODEL_DIR"
        )


def load_classifier(model_dir: Path) -> Classifier:
    """Load the trained model in `model_dir` with `nlu.IntentClassifier`.

    One thread unless `SHOPINTENT_NLU_THREADS` says otherwise: one short message gains
    little from intra-op threads, and the bot shares the CPU with the action server
    (measured 39 ms per parse with 1 torch thread vs 550 ms with 2 on a busy 2-core box).

    Raises:
        ModelNotFoundError: The folder does not hold a trained model.
    """
    require_model(model_dir)
    from nlu.classifier import IntentClassifier

    classifier: Classifier = IntentClassifier.load(model_dir)
    return classifier


def _probe(model: Classifier) -> None:
    """A model serves only once it parsed a message (weights can load and still be broken)."""
    from nlu.registry import SMOKE_TEXT

    model.parse(SMOKE_TEXT)


class ModelProvider:
    """The model answering the bot's messages, batched, following the registry.

    A model that runs several messages in one forward pass (PyTorch, float ONNX) gets
    the messages waiting together as one batch, in one worker thread. A model that runs
    one message at a time (int8 ONNX, `batch_size` 1) gets no batches, which would only
    make the first message wait for the last: up to `parallel` messages run at once,
    each in its own worker thread (ONNX Runtime runs them side by side, on other cores).

    Args:
        current: Returns the model to use now (a registry watcher's `get`, or a fixed model).
        live: The registry watcher, when the model follows the registry.
        max_batch: The most messages in one forward pass.
        parallel: The most one-at-a-time messages classified at once.
    """

    def __init__(
        self,
        current: Callable[[], Classifier],
        live: LiveModel[Classifier] | None = None,
        *,
        max_batch: int = 32,
        parallel: int = 2,
    ) -> None:
        self._current = current
        self.live = live
        self.max_batch = max_batch
        self.parallel = max(1, parallel)
        self._queue: asyncio.Queue[tuple[str, asyncio.Future[ParseResult]]] | None = None
        self._worker: asyncio.Task[None] | None = None
        self._running: set[asyncio.Task[None]] = set()

    @classmethod
    def load(cls, model_dir: Path, review: ReviewSettings) -> ModelProvider:
        """Load the registry's current model (or `model_dir`); blocking, call it off the loop.

        When `review.follows_registry(model_dir)` is False the registry is never looked
        at and `model_dir` serves, as configured.

        Raises:
            ModelNotFoundError: Neither the registry nor `model_dir` holds a model.
            RegistryError: The registry cannot be read and there is no fallback.
        """
        from nlu.registry import LiveModel, Registry

        live: LiveModel[Classifier] = LiveModel(
            Registry(review.registry_dir),
            load_classifier,
            fallback=Path(model_dir),
            check_interval=review.model_reload_s,
            use_registry=review.follows_registry(model_dir),
            probe=_probe,
        )
        live.load_now()
        return cls(live.get, live)

    @classmethod
    def fixed(cls, classifier: Classifier) -> ModelProvider:
        """Serve `classifier` as it is (no registry): for tests and embedding."""
        return cls(lambda: classifier)

    @property
    def model(self) -> Classifier:
        """The model answering now."""
        return self._current()

    @property
    def version(self) -> str:
        """Version of the model answering now (stored with every turn)."""
        return str(getattr(self.model, "version", "unknown"))

    @property
    def backend(self) -> str | None:
        """The inference backend of the model answering now (`onnx-int8`, `onnx`, `torch`)."""
        backend = getattr(self.model, "backend", None)
        return str(backend) if backend else None

    @property
    def last_error(self) -> str | None:
        """Why the last promoted model failed to load (None when it loaded)."""
        return self.live.last_error if self.live is not None else None

    @property
    def degraded_reason(self) -> str | None:
        """Why the model answering is not the registry's current one (None when it is)."""
        if self.live is not None:
            return self.live.degraded_reason
        reason = getattr(self.model, "degraded_reason", None)
        return str(reason) if reason else None

    def registry_current(self) -> str | None:
        """The version the registry points at (may still be loading); None without one.

        Raises:
            ModelRegistryError: `registry.json` does not parse (answered 503).
        """
        if self.live is None or not self.live.use_registry:
            return None
        from nlu.registry import RegistryError

        try:
            current = self.live.registry.current()
        except RegistryError as exc:
            raise ModelRegistryError(str(exc)) from exc
        return current.version if current else None

    def parse_batch(self, texts: Sequence[str]) -> list[ParseResult]:
        """Classify several messages with one model, even if a swap happens meanwhile (blocking)."""
        model = self.model
        batch = getattr(model, "parse_batch", None)
        if batch is not None and len(texts) > 1:
            return list(batch(list(texts)))
        return [model.parse(t) for t in texts]

    async def parse(self, text: str) -> ParseResult:
        """Classify one message (waits for its batch)."""
        if self._queue is None or self._worker is None or self._worker.done():
            self._queue = asyncio.Queue()
            self._worker = asyncio.get_running_loop().create_task(self._run(self._queue))
        future: asyncio.Future[ParseResult] = asyncio.get_running_loop().create_future()
        await self._queue.put((text, future))
        return await future

    async def aclose(self) -> None:
        """Stop the worker task (and the messages it is classifying)."""
        for task in list(self._running):
            task.cancel()
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
            self._worker = None

    def _one_at_a_time(self) -> bool:
        return int(getattr(self.model, "batch_size", self.max_batch)) <= 1

    async def _run(self, queue: asyncio.Queue[tuple[str, asyncio.Future[ParseResult]]]) -> None:
        slots = asyncio.Semaphore(self.parallel)
        while True:
            batch = [await queue.get()]
            if self._one_at_a_time():
                await slots.acquire()
                task = asyncio.get_running_loop().create_task(self._answer(batch))
                self._running.add(task)

                def done(finished: asyncio.Task[None]) -> None:
                    self._running.discard(finished)
                    slots.release()

                task.add_done_callback(done)
                continue
            while len(batch) < self.max_batch and not queue.empty():
                batch.append(queue.get_nowait())
            await self._answer(batch)

    async def _answer(self, batch: list[tuple[str, asyncio.Future[ParseResult]]]) -> None:
        texts = [text for text, _ in batch]
        try:
            results = await asyncio.to_thread(self.parse_batch, texts)
        except Exception as exc:
            logger.exception("the classifier failed on a batch of %d", len(batch))
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        for (_, future), result in zip(batch, results, strict=True):
            if not future.done():
                future.set_result(result)
