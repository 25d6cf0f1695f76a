"""Serving the registry's model: follow the `current` pointer and swap models in live.

`LiveModel` is what a server holds instead of a model: it loads the registry's current
version at start-up (falling back to earlier promoted versions, then a fallback folder,
saying why in `degraded_reason`), and watches `registry.json` with one `stat` every few
seconds to load a newly promoted version in the background and swap it in without
dropping a request. The registry itself is `nlu.registry.Registry`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Generic, TypeVar

from nlu.registry_file import RegistryError, RegistryState

if TYPE_CHECKING:
    from nlu.registry import Registry

logger = logging.getLogger(__name__)

M = TypeVar("M")


class LiveModel(Generic[M]):
    """Serves the registry's current model and swaps in a newly promoted one live.

    `get()` costs one `stat` at most every `check_interval` seconds. When the pointer
    moved, the new model loads in a background thread while requests keep using the
    old one; the swap is a single reference assignment, so no request is dropped or
    sees half a model. A model that fails to load is logged and the old one keeps serving.

    At start-up a current version that fails to load (or a `registry.json` that does not
    parse) falls back to the versions promoted before it, newest first, then to
    `fallback`. Whenever the model serving is not the one the registry points at,
    `degraded_reason` says why.

    Args:
        registry: Where to look for the current pointer.
        loader: Loads a model folder (e.g. `IntentClassifier.load`).
        fallback: Folder to serve while the registry has no current version (e.g. `models/default`).
        check_interval: Seconds between two looks at the registry.
        use_registry: False serves `fallback` only and never looks at the registry.
        probe: Run on a freshly loaded model before it serves (e.g. parse one message);
            raising counts as a failed load.
    """

    def __init__(
        self,
        registry: Registry,
        loader: Callable[[Path], M],
        *,
        fallback: Path | None = None,
        check_interval: float = 2.0,
        use_registry: bool = True,
        probe: Callable[[M], object] | None = None,
    ) -> None:
        self.registry = registry
        self.use_registry = use_registry
        self.loader = loader
        self.fallback = fallback
        self.check_interval = check_interval
        self.probe = probe
        self._model: M | None = None
        self._version: str | None = None
        self._stamp: tuple[int, int, int] | None = None
        self._checked_at = 0.0
        self._lock = threading.Lock()
        self._loading: threading.Thread | None = None
        self.last_error: str | None = None
        self._degraded: str | None = None

    def _load(self, path: Path) -> M:
        model = self.loader(path)
        if self.probe is not None:
            self.probe(model)
        return model

    def _candidates(self) -> tuple[list[tuple[Path, str | None]], list[str]]:
        """What to try at start-up, best first, and the problems found on the way."""
        candidates: list[tuple[Path, str | None]] = []
        problems: list[str] = []
        if self.use_registry:
            try:
                state = self.registry.load()
            except RegistryError as exc:
                problems.append(str(exc))
                state = RegistryState()
            names = [state.current] if state.current else []
            names += [v for v in reversed(state.history) if v not in names]
            for name in dict.fromkeys(names):
                entry = state.versions.get(name) if name else None
                if entry is None:
                    continue
                try:
                    candidates.append((self.registry.path_for(entry), entry.version))
                except RegistryError as exc:
                    problems.append(str(exc))
        if self.fallback is not None:
            candidates.append((self.fallback, None))
        return candidates, problems

    def load_now(self) -> M:
        """Load the current model synchronously (or the last good one); call once at start-up.

        Raises:
            RegistryError: Neither a current version nor a fallback folder exists.
            Exception: What loading the only (or the first) candidate raised, when none loads.
        """
        self._stamp = self.registry.stamp() if self.use_registry else None
        candidates, problems = self._candidates()
        if not candidates:
            if problems:
                raise RegistryError("; ".join(problems))
            raise RegistryError(
                f"expected a promoted model in {self.registry.file} or a fallback model folder, "
                "but found neither; train one with `shopintent train` or `shopintent retrain`."
            )
        first_error: Exception | None = None
        for path, version in candidates:
            try:
                model = self._load(path)
            except Exception as exc:
                first_error = first_error or exc
                problems.append(f"{version or path} failed to load ({type(exc).__name__}: {exc})")
                logger.exception("could not load the model %s", version or path)
                continue
            with self._lock:
                self._model, self._version = model, version
                self._degraded = (
                    "; ".join([*problems, f"serving {version or path} instead"])
                    if problems
                    else None
                )
            if self._degraded:
                logger.error("model degraded: %s", self._degraded)
            self._checked_at = time.monotonic()
            return model
        raise first_error or RegistryError("; ".join(problems))

    @property
    def version(self) -> str | None:
        """Registry version of the model being served (None for the fallback folder)."""
        return self._version

    @property
    def degraded_reason(self) -> str | None:
        """Why the model serving is not the registry's current one (None when it is)."""
        return self._degraded

    def get(self) -> M:
        """The model to answer this request with; may start a background reload."""
        if self._model is None:
            return self.load_now()
        self.maybe_reload()
        return self._model

    def maybe_reload(self, *, wait: bool = False) -> None:
        """Look at the registry (rate-limited) and start loading a newly promoted model."""
        if not self.use_registry:
            return
        now = time.monotonic()
        if not wait and now - self._checked_at < self.check_interval:
            return
        self._checked_at = now
        stamp = self.registry.stamp()
        if stamp == self._stamp:
            return
        with self._lock:
            if self._loading is not None and self._loading.is_alive():
                return
            self._loading = threading.Thread(
                target=self._reload, args=(stamp,), name="shopintent-model-reload", daemon=True
            )
            self._loading.start()
            thread = self._loading
        if wait:
            thread.join()

    def _reload(self, stamp: tuple[int, int, int] | None) -> None:
        serving = self._version or self.fallback
        try:
            current = self.registry.current()
            if current is None or current.version == self._version:
                self._stamp = stamp
                self._degraded = None
                return
            model = self._load(self.registry.path_for(current))
        except Exception as exc:  # a broken candidate must never take the bot down
            self.last_error = f"{type(exc).__name__}: {exc}"
            self._degraded = f"{self.last_error}; still serving {serving}"
            logger.exception("could not load the promoted model; the old one keeps serving")
            self._stamp = stamp
            return
        with self._lock:
            self._model, self._version = model, current.version
            self._stamp = stamp
            self.last_error = None
            self._degraded = None
        logger.info("now serving model %s", current.version)
