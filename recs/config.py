"""Configuration of the recommender: training settings and runtime settings.

`RecsConfig` is a dataclass whose fields are also the `shopintent recs train` flags
and what the artifact records; `RecsSettings` holds the environment settings
(prefix `SHOPINTENT_`), read through the cached `get_settings()`.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from typing import Any

from pydantic_settings import BaseSettings

from core.config import field_defaults, field_names, value_checker
from core.settings import settings_config
from recs.errors import RecsError

DEFAULT_MODEL_DIR = "models/recs"
DEFAULT_DATABASE_URL = "sqlite:///shopintent.db"
METRICS = ("hr@10", "ndcg@10", "full_hr@10", "full_ndcg@10")
SCHEDULES = ("linear", "constant")


class ConfigError(RecsError, ValueError):
    """A training setting has an invalid value."""


@dataclass
class RecsConfig:
    """Settings of one training run; every field is also a `shopintent recs train` flag.

    The defaults were chosen on the validation split of the Amazon Video Games data
    (see docs/recs.md): SASRec with 2 causal self-attention blocks of width 128, trained
    with full softmax cross-entropy over the catalogue.

    >>> RecsConfig(epochs=5, seed=7).epochs
    5
    """

    hidden: int = field(default=128, metadata={"help": "embedding and attention width"})
    blocks: int = field(default=2, metadata={"help": "self-attention blocks"})
    heads: int = field(default=1, metadata={"help": "attention heads per block"})
    dropout: float = field(default=0.3, metadata={"help": "dropout rate"})
    max_len: int = field(default=50, metadata={"help": "most recent items the model reads"})
    epochs: int = field(default=8, metadata={"help": "most training epochs"})
    patience: int = field(
        default=3,
        metadata={"help": "stop after this many epochs without a better validation score"},
    )
    learning_rate: float = field(default=6e-3, metadata={"help": "peak AdamW learning rate"})
    schedule: str = field(
        default="linear",
        metadata={
            "help": f"learning rate over the run, one of {', '.join(SCHEDULES)} "
            "(linear: decays to 0 at the last epoch)"
        },
    )
    weight_decay: float = field(default=0.0, metadata={"help": "AdamW weight decay"})
    batch_positions: int = field(
        default=1024,
        metadata={"help": "predicted positions per batch (sequences are grouped by length)"},
    )
    seed: int = field(default=42, metadata={"help": "random seed (init, batch order, dropout)"})
    num_threads: int | None = field(
        default=None, metadata={"help": "CPU threads for torch (default: all cores)"}
    )
    time_budget_s: float | None = field(
        default=None,
        metadata={"help": "stop training after this many seconds (the best epoch is kept)"},
    )
    stop_metric: str = field(
        default="full_ndcg@10",
        metadata={"help": f"validation metric for early stopping, one of {', '.join(METRICS)}"},
    )
    validation_shoppers: int = field(
        default=10000,
        metadata={
            "help": "validation shoppers ranked after each epoch, a fixed random sample (0: all)"
        },
    )
    negatives: int = field(
        default=100, metadata={"help": "sampled negatives per shopper in the sampled metrics"}
    )
    progress: bool = field(default=True, metadata={"help": "show tqdm progress bars"})

    def __post_init__(self) -> None:
        _check(self.hidden >= 4, "hidden", self.hidden, "an integer >= 4")
        _check(self.blocks >= 1, "blocks", self.blocks, "an integer >= 1")
        _check(
            self.heads >= 1 and self.hidden % self.heads == 0,
            "heads",
            self.heads,
            f"an integer >= 1 that divides hidden ({self.hidden})",
        )
        _check(0 <= self.dropout < 1, "dropout", self.dropout, "a number in [0, 1)")
        _check(2 <= self.max_len <= 1024, "max_len", self.max_len, "an integer in 2..1024")
        _check(self.epochs >= 1, "epochs", self.epochs, "an integer >= 1")
        _check(self.patience >= 1, "patience", self.patience, "an integer >= 1")
        _check(
            0 < self.learning_rate < 1, "learning_rate", self.learning_rate, "a number in (0, 1)"
        )
        _check(self.schedule in SCHEDULES, "schedule", self.schedule, f"one of {SCHEDULES}")
        _check(self.weight_decay >= 0, "weight_decay", self.weight_decay, "a number >= 0")
        _check(
            self.batch_positions >= 1, "batch_positions", self.batch_positions, "an integer >= 1"
        )
        _check(self.stop_metric in METRICS, "stop_metric", self.stop_metric, f"one of {METRICS}")
        _check(
            self.validation_shoppers >= 0,
            "validation_shoppers",
            self.validation_shoppers,
            "an integer >= 0",
        )
        _check(self.negatives >= 1, "negatives", self.negatives, "an integer >= 1")
        if self.num_threads is not None:
            _check(self.num_threads >= 1, "num_threads", self.num_threads, "an integer >= 1")
        if self.time_budget_s is not None:
            _check(self.time_budget_s > 0, "time_budget_s", self.time_budget_s, "a number > 0")

    @property
    def threads(self) -> int:
        """The torch CPU threads to use: `num_threads`, else every core."""
        return self.num_threads or max(1, os.cpu_count() or 1)

    def to_dict(self) -> dict[str, Any]:
        """Return the settings as a JSON-ready dict."""
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> RecsConfig:
        """Rebuild settings from `to_dict()` output, ignoring names this version lacks."""
        known = field_names(cls)
        return cls(**{k: v for k, v in raw.items() if k in known})

    @classmethod
    def defaults(cls) -> dict[str, Any]:
        """Return the default value of every setting (for `--help` texts)."""
        return field_defaults(cls)


_check = value_checker(ConfigError)


class RecsSettings(BaseSettings):
    """Runtime settings of the recs package (environment prefix `SHOPINTENT_`)."""

    model_config = settings_config()

    database_url: str = ""
    recs_model_dir: str = DEFAULT_MODEL_DIR

    @property
    def resolved_database_url(self) -> str:
        """`SHOPINTENT_DATABASE_URL`, else the SQLite file `shopintent.db` here."""
        return self.database_url.strip() or DEFAULT_DATABASE_URL


@lru_cache(maxsize=1)
def get_settings() -> RecsSettings:
    """Return the cached runtime settings (read from the environment on first use)."""
    return RecsSettings()
