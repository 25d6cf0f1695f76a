"""The model artifact: a `save_pretrained` directory plus the project's `shopintent.json`.

The JSON carries everything serving needs besides the transformer itself: the
decision rule (temperature, rejection method and threshold) chosen on validation
data, the out-of-scope label, the entity lookups, and where the model came from.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from core.artifacts import meta_json, open_meta, project_version, version_stamp
from core.paths import ARTIFACT_FILE
from nlu.calibration import DecisionRule, OosStats
from nlu.config import POOLINGS
from nlu.errors import ArtifactError, NotAModelError

STATS_FILE = "oos_stats.npz"
FORMAT_VERSION = 1

# Re-exported: the artifact stores these (defined with the rest of the OOS maths).
__all__ = [
    "ARTIFACT_FILE",
    "STATS_FILE",
    "ArtifactError",
    "ArtifactMeta",
    "DecisionRule",
    "NotAModelError",
    "OosStats",
    "project_version",
]


@dataclass
class ArtifactMeta:
    """Contents of `shopintent.json`."""

    base_model: str
    data_hash: str
    labels: list[str]
    decision: DecisionRule
    max_length: int
    entities: dict[str, Any]
    validation: dict[str, float]
    train_config: dict[str, Any]
    created: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    project_version: str = field(default_factory=lambda: project_version())
    format_version: int = FORMAT_VERSION
    train_seconds: float | None = None
    # "mean": the head reads the unit-length mean of the last layer (the sentence
    # embedding the base encoder was trained for); "cls": the model's own head.
    pooling: str = "cls"
    train_steps: int | None = None
    # Trained again on train + validation after the rule was chosen (small data).
    refit: bool = False
    # ONNX exports: {"files": {"onnx": "model.onnx", "onnx-int8": "model.int8.onnx"},
    # "opset": N, "checks": {backend: {"n", "agreement", "max_confidence_diff", "passed"}}}
    # (None: not exported; the torch backend serves).
    onnx: dict[str, Any] | None = None

    @property
    def model_version(self) -> str:
        """A stable id of this model: creation time plus the training-data hash."""
        return version_stamp(self.created, self.data_hash)

    def save(self, directory: str | Path) -> Path:
        """Write `shopintent.json` into `directory` and return its path."""
        path = Path(directory) / ARTIFACT_FILE
        payload = asdict(self)
        payload["model_version"] = self.model_version
        path.write_text(meta_json(payload), encoding="utf-8")
        return path

    @classmethod
    def load(cls, directory: str | Path) -> ArtifactMeta:
        """Read `shopintent.json` from a model directory.

        Raises:
            NotAModelError: the directory or its `shopintent.json` is missing.
            ArtifactError: the JSON is damaged or from a newer format.
        """
        path = Path(directory) / ARTIFACT_FILE
        try:
            raw = open_meta(
                directory,
                [ARTIFACT_FILE],
                FORMAT_VERSION,
                missing=NotAModelError,
                too_new=ArtifactError,
                no_folder_message="model directory {directory} not found: expected a directory "
                "written by `shopintent train` (train one with `shopintent train --output DIR`)",
                not_artifact_message="{directory} is not a shopintent model: expected {expected} "
                "next to the transformer weights, found none; train one with `shopintent train`",
                too_new_message="{path}: format version {found} is newer than this shopintent "
                "supports ({supported}); upgrade shopintent or retrain the model",
            )
            raw["decision"] = DecisionRule(**raw["decision"])
            meta = cls(**raw)
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise ArtifactError(
                f"{path} is damaged ({type(exc).__name__}: {exc}); retrain with `shopintent train`"
            ) from None
        if meta.pooling not in POOLINGS:
            raise ArtifactError(
                f"{path}: unknown pooling {meta.pooling!r}, expected one of {POOLINGS}; "
                "retrain with `shopintent train`"
            )
        return meta


def data_hash(texts: list[str], labels: list[str]) -> str:
    """Return a SHA-256 over the (text, label) pairs, independent of their order."""
    digest = hashlib.sha256()
    for text, label in sorted(zip(texts, labels, strict=True)):
        digest.update(f"{label}\t{text}\n".encode())
    return digest.hexdigest()
