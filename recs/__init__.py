"""Personalised recommendations: a SASRec-style sequential recommender.

>>> from recs import Recommender  # doctest: +SKIP
>>> Recommender.load("models/recs").recommend(["12", "7"], k=5)  # doctest: +SKIP

Train with `shopintent recs train`; the public names are imported on first use, so
`import recs` (and `shopintent --help`) stays fast. `recs` never imports `bot` or
`actions`: it reads the shop's tables by name.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.lazy import lazy_exports

if TYPE_CHECKING:
    from recs.config import RecsConfig
    from recs.data import Interactions, load_interactions, read_database, read_file
    from recs.errors import RecsError
    from recs.evaluation import evaluate
    from recs.recommender import Recommender
    from recs.training import train

_EXPORTS = {
    "Interactions": "recs.data",
    "Recommender": "recs.recommender",
    "RecsConfig": "recs.config",
    "RecsError": "recs.errors",
    "evaluate": "recs.evaluation",
    "load_interactions": "recs.data",
    "read_database": "recs.data",
    "read_file": "recs.data",
    "train": "recs.training",
}

__all__ = [
    "Interactions",
    "Recommender",
    "RecsConfig",
    "RecsError",
    "evaluate",
    "load_interactions",
    "read_database",
    "read_file",
    "train",
]

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
