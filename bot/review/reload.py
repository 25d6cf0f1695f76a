"""Serve the model registry's current version and switch to a new one without a restart.

`LiveClassifier` looks like the classifier the bot expects (`version`, `parse`,
`parse_batch`). Each call costs at most one `stat` of `models/registry.json` every
`SHOPINTENT_MODEL_RELOAD_S` seconds; when `shopintent retrain` or
`shopintent models promote|rollback` moved the pointer, the new model loads in a
background thread while the old one keeps answering, then replaces it in one step.
A model only serves once it has parsed one message; one that fails is never swapped
in, and at start-up the last good version serves instead (`degraded_reason` says so).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bot.classifier import Classifier, load_classifier
from bot.errors import ModelRegistryError
from bot.review.settings import ReviewSettings
from nlu.registry import SMOKE_TEXT, LiveModel, Registry, RegistryError


class LiveClassifier:
    """A classifier that follows the registry's `current` pointer.

    Args:
        live: The registry watcher that holds the loaded model.
    """

    def __init__(self, live: LiveModel[Classifier]) -> None:
        self.live = live

    @property
    def version(self) -> str:
        """Version of the model answering now."""
        return str(self.live.get().version)

    @property
    def last_error(self) -> str | None:
        """Why the last promoted model failed to load (None when it loaded)."""
        return self.live.last_error

    @property
    def degraded_reason(self) -> str | None:
        """Why the model answering is not the registry's current one (None when it is)."""
        return self.live.degraded_reason

    def registry_current(self) -> str | None:
        """The version the registry points at (may still be loading).

        Raises:
            ModelRegistryError: `registry.json` does not parse (answered 503).
        """
        if not self.live.use_registry:
            return None
        try:
            current = self.live.registry.current()
        except RegistryError as exc:
            raise ModelRegistryError(str(exc)) from exc
        return current.version if current else None

    def parse(self, text: str) -> Any:
        """Classify one message with the current model."""
        return self.live.get().parse(text)

    def parse_batch(self, texts: Sequence[str]) -> list[Any]:
        """Classify several messages with one model, even if a swap happens meanwhile."""
        model = self.live.get()
        batch = getattr(model, "parse_batch", None)
        if batch is not None:
            return list(batch(list(texts)))
        return [model.parse(t) for t in texts]


def _probe(model: Classifier) -> None:
    """A model serves only once it parsed a message (weights can load and still be broken)."""
    model.parse(SMOKE_TEXT)


def load_live_classifier(model_dir: Path, review: ReviewSettings) -> LiveClassifier:
    """Load the registry's current model (or `model_dir` while none is promoted).

    When `review.follows_registry(model_dir)` is False the registry is never looked
    at and `model_dir` serves, as configured.

    Args:
        model_dir: The bot's configured model folder, served until the registry has a
            promoted version.
        review: Where the registry is and how often to look at it.

    Returns:
        The live classifier, its model already loaded.

    Raises:
        ModelNotFoundError: Neither the registry nor `model_dir` holds a model.
    """
    follow = review.follows_registry(model_dir)
    live: LiveModel[Classifier] = LiveModel(
        Registry(review.registry_dir),
        load_classifier,
        fallback=Path(model_dir),
        check_interval=review.model_reload_s,
        use_registry=follow,
        probe=_probe,
    )
    live.load_now()
    return LiveClassifier(live)
