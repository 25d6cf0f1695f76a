"""Natural-language understanding: data loading and validation, fine-tuning, inference, evaluation.

>>> from nlu import IntentClassifier  # doctest: +SKIP
>>> IntentClassifier.load("models/default").parse("where is my order 4411?")  # doctest: +SKIP

The public names are imported on first use, so `import nlu` (and `shopintent --help`)
stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.lazy import lazy_exports

if TYPE_CHECKING:
    from core.wire import ParseResult
    from nlu.classifier import IntentClassifier
    from nlu.config import TrainConfig
    from nlu.entities import EntityExtractor
    from nlu.evaluation import EvalResult, evaluate
    from nlu.training import load_data, train

_EXPORTS = {
    "IntentClassifier": "nlu.classifier",
    "ParseResult": "core.wire",
    "TrainConfig": "nlu.config",
    "EntityExtractor": "nlu.entities",
    "EvalResult": "nlu.evaluation",
    "evaluate": "nlu.evaluation",
    "load_data": "nlu.training",
    "train": "nlu.training",
}

__all__ = [
    "EntityExtractor",
    "EvalResult",
    "IntentClassifier",
    "ParseResult",
    "TrainConfig",
    "evaluate",
    "load_data",
    "train",
]

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
