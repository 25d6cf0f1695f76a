"""Configuration of the intent classifier: training settings and runtime settings.

`TrainConfig` is a dataclass that doubles as the `shopintent train` flags and as a
JSON file (`--config`); `NluSettings` holds the runtime environment settings
(prefix `SHOPINTENT_`), read through the cached `get_settings()`.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic_settings import BaseSettings

from core.config import field_defaults, field_names, value_checker
from core.paths import DEFAULT_DATA_DIR, DEFAULT_MODEL_DIR
from core.settings import settings_config
from core.wire import OOS_LABEL
from nlu.calibration import DEFAULT_MIN_CONFIDENCE
from nlu.errors import NluError

OOS_METHODS = ("softmax", "mahalanobis", "knn")
DEVICES = ("auto", "cpu", "cuda", "mps")
POOLINGS = ("mean", "cls")
DEFAULT_DATA = DEFAULT_DATA_DIR  # the name `TrainConfig` and the CLI use


class ConfigError(NluError, ValueError):
    """A training setting has an invalid value or the config file cannot be read."""


@dataclass
class TrainConfig:
    """Settings of one training run; every field is also a `shopintent train` flag.

    Defaults were chosen by measurement (see docs/nlu.md): the head reads the
    encoder's mean-pooled sentence embedding and starts from the intents' centroids;
    the schedule comes from the data (3 epochs over large data, at least 600 steps
    over a few hundred examples), at 1e-4.

    >>> TrainConfig(epochs=3, seed=7).epochs
    3.0
    """

    data: list[str] = field(
        default_factory=lambda: [DEFAULT_DATA],
        metadata={"help": "training data: Rasa YAML files/folders, CSV or JSONL"},
    )
    base_model: str | None = field(
        default=None,
        metadata={"help": "base encoder dir or hub id (default: packaged all-MiniLM-L6-v2)"},
    )
    output_dir: str = field(default=DEFAULT_MODEL_DIR, metadata={"help": "artifact directory"})
    epochs: float | None = field(
        default=None,
        metadata={
            "help": "training epochs (default: picked from the data: 3 over large data, "
            "at least --min-steps optimizer steps over small data)"
        },
    )
    min_steps: int = field(
        default=600,
        metadata={"help": "fewest optimizer steps when --epochs is not given"},
    )
    learning_rate: float = field(default=1e-4, metadata={"help": "peak learning rate"})
    batch_size: int = field(default=32, metadata={"help": "per-device training batch size"})
    max_length: int = field(default=64, metadata={"help": "max tokens per message"})
    warmup_ratio: float = field(default=0.1, metadata={"help": "linear warm-up fraction"})
    weight_decay: float = field(default=0.01, metadata={"help": "AdamW weight decay"})
    seed: int = field(default=42, metadata={"help": "random seed (split, init, order)"})
    oos_label: str = field(default=OOS_LABEL, metadata={"help": "label of out-of-scope examples"})
    oos_method: str = field(
        default="knn",
        metadata={"help": f"rejection score, one of {', '.join(OOS_METHODS)}"},
    )
    validation_fraction: float = field(
        default=0.1, metadata={"help": "stratified share of training data held out for tuning"}
    )
    target_in_scope_rejection: float = field(
        default=0.03,
        metadata={"help": "share of in-scope validation rejected when there are no OOS examples"},
    )
    freeze_embeddings: bool = field(
        default=True,
        metadata={"help": "keep the word embeddings fixed (4x faster steps on CPU)"},
    )
    max_in_scope_rejection: float = field(
        default=0.05,
        metadata={"help": "most in-scope validation a threshold tuned on OOS examples may reject"},
    )
    pooling: str = field(
        default="mean",
        metadata={
            "help": "what the head reads: 'mean' (the encoder's sentence embedding) or 'cls'"
        },
    )
    min_confidence: float = field(
        default=DEFAULT_MIN_CONFIDENCE,
        metadata={"help": "reject a message whose calibrated confidence is below this"},
    )
    refit: bool | None = field(
        default=None,
        metadata={
            "help": "after calibration, train again on training + validation data "
            "(default: when the median intent has fewer than 50 examples)"
        },
    )
    num_hidden_layers: int | None = field(
        default=None, metadata={"help": "keep only the first N encoder layers (faster, smaller)"}
    )
    text_column: str | None = field(default=None, metadata={"help": "CSV/JSONL text column"})
    label_column: str | None = field(default=None, metadata={"help": "CSV/JSONL label column"})
    device: str = field(default="auto", metadata={"help": f"one of {', '.join(DEVICES)}"})
    bf16: bool = field(default=False, metadata={"help": "bfloat16 mixed precision (GPU)"})
    onnx: bool = field(
        default=True,
        metadata={
            "help": "also write model.onnx and model.int8.onnx (fast CPU serving), "
            "checked against PyTorch on the validation part"
        },
    )
    num_threads: int | None = field(
        default=None, metadata={"help": "CPU threads for torch (default: all cores, max 8)"}
    )
    max_steps: int = field(default=-1, metadata={"help": "stop after N steps (-1: use epochs)"})

    def __post_init__(self) -> None:
        if isinstance(self.data, str):
            self.data = [self.data]
        self.data = [str(p) for p in self.data]
        if self.epochs is not None:
            self.epochs = float(self.epochs)
            _check(self.epochs > 0, "epochs", self.epochs, "a positive number")
        if not self.data:
            raise ConfigError("data: expected at least one path, found none")
        _check(self.min_steps >= 1, "min_steps", self.min_steps, "an integer >= 1")
        _check(self.pooling in POOLINGS, "pooling", self.pooling, f"one of {POOLINGS}")
        _check(
            0 <= self.min_confidence < 1,
            "min_confidence",
            self.min_confidence,
            "a number in [0, 1)",
        )
        _check(
            0 < self.learning_rate < 1, "learning_rate", self.learning_rate, "a number in (0, 1)"
        )
        _check(self.batch_size >= 1, "batch_size", self.batch_size, "an integer >= 1")
        _check(8 <= self.max_length <= 4096, "max_length", self.max_length, "8..4096 tokens")
        _check(0 <= self.warmup_ratio < 1, "warmup_ratio", self.warmup_ratio, "a number in [0, 1)")
        _check(self.weight_decay >= 0, "weight_decay", self.weight_decay, "a number >= 0")
        _check(
            0 < self.validation_fraction < 0.5,
            "validation_fraction",
            self.validation_fraction,
            "a number in (0, 0.5)",
        )
        _check(
            0 < self.target_in_scope_rejection < 0.5,
            "target_in_scope_rejection",
            self.target_in_scope_rejection,
            "a number in (0, 0.5)",
        )
        _check(
            0 < self.max_in_scope_rejection <= 1,
            "max_in_scope_rejection",
            self.max_in_scope_rejection,
            "a number in (0, 1]",
        )
        _check(
            self.oos_method in OOS_METHODS, "oos_method", self.oos_method, f"one of {OOS_METHODS}"
        )
        _check(self.device in DEVICES, "device", self.device, f"one of {DEVICES}")
        _check(bool(self.oos_label.strip()), "oos_label", self.oos_label, "a non-empty name")
        if self.num_hidden_layers is not None:
            _check(
                self.num_hidden_layers >= 1,
                "num_hidden_layers",
                self.num_hidden_layers,
                "an integer >= 1",
            )
        if self.num_threads is not None:
            _check(self.num_threads >= 1, "num_threads", self.num_threads, "an integer >= 1")
        _check(
            self.max_steps == -1 or self.max_steps >= 1, "max_steps", self.max_steps, "-1 or >= 1"
        )

    def to_dict(self) -> dict[str, Any]:
        """Return the settings as a JSON-ready dict."""
        return asdict(self)

    @classmethod
    def from_json(cls, path: str | Path, **overrides: Any) -> TrainConfig:
        """Read settings from a JSON object file; `overrides` win over the file.

        Raises:
            ConfigError: the file is missing, not JSON, or names an unknown setting.
        """
        path = Path(path)
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(
                f"config file {path} not found: expected a JSON object of training settings"
            ) from None
        except json.JSONDecodeError as exc:
            raise ConfigError(f"config file {path} is not valid JSON ({exc}); fix it") from None
        if not isinstance(raw, dict):
            raise ConfigError(
                f"config file {path}: expected a JSON object, found {type(raw).__name__}"
            )
        known = field_names(cls)
        unknown = sorted(set(raw) - known)
        if unknown:
            raise ConfigError(
                f"config file {path}: unknown settings {unknown}; expected some of {sorted(known)}"
            )
        raw.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**raw)

    @classmethod
    def defaults(cls) -> dict[str, Any]:
        """Return the default value of every setting (for `--help` texts)."""
        return field_defaults(cls)


_check = value_checker(ConfigError)


class NluSettings(BaseSettings):
    """Runtime settings of the nlu package (environment prefix `SHOPINTENT_`)."""

    model_config = settings_config()

    model_dir: str = DEFAULT_MODEL_DIR
    nlu_threads: int | None = None
    nlu_batch_size: int = 32
    # "auto" (int8 ONNX when the artifact has it and it passed its export check, else
    # PyTorch), "onnx-int8", "onnx" or "torch": see `nlu.backends`.
    nlu_backend: str = "auto"


@lru_cache(maxsize=1)
def get_settings() -> NluSettings:
    """Return the cached runtime settings (read from the environment on first use)."""
    return NluSettings()
