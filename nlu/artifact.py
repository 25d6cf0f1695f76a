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
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np

from nlu.errors import NluError

ARTIFACT_FILE = "shopintent.json"
STATS_FILE = "oos_stats.npz"
FORMAT_VERSION = 1
KNN_K = 10


class NotAModelError(NluError):
    """A directory does not hold a shopintent model artifact."""


class ArtifactError(NluError):
    """A shopintent model artifact is damaged or from an incompatible version."""


@dataclass
class DecisionRule:
    """How raw logits become an intent, a confidence and a rejection."""

    temperature: float
    oos_method: str  # "softmax" (calibrated max probability) or "mahalanobis"
    threshold: float  # reject when the method's in-scope score is below this
    oos_label: str | None  # label of the explicit OOS class, None when the data had none
    threshold_source: str  # "validation-oos" (tuned on OOS examples) or "in-scope-quantile"
    stats_file: str | None = None  # embedding statistics for distance-based methods


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

    @property
    def model_version(self) -> str:
        """A stable id of this model: creation time plus the training-data hash."""
        stamp = self.created.replace("-", "").replace(":", "").split("+")[0]
        return f"{stamp}-{self.data_hash[:8]}"

    def save(self, directory: str | Path) -> Path:
        """Write `shopintent.json` into `directory` and return its path."""
        path = Path(directory) / ARTIFACT_FILE
        payload = asdict(self)
        payload["model_version"] = self.model_version
        path.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        return path

    @classmethod
    def load(cls, directory: str | Path) -> ArtifactMeta:
        """Read `shopintent.json` from a model directory.

        Raises:
            NotAModelError: the directory or its `shopintent.json` is missing.
            ArtifactError: the JSON is damaged or from a newer format.
        """
        directory = Path(directory)
        if not directory.is_dir():
            raise NotAModelError(
                f"model directory {directory} not found: expected a directory written by "
                "`shopintent train` (train one with `shopintent train --output DIR`)"
            )
        path = directory / ARTIFACT_FILE
        if not path.is_file():
            raise NotAModelError(
                f"{directory} is not a shopintent model: expected {ARTIFACT_FILE} next to the "
                "transformer weights, found none; train one with `shopintent train`"
            )
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            raw.pop("model_version", None)
            fmt = int(raw.get("format_version", 0))
            if fmt > FORMAT_VERSION:
                raise ArtifactError(
                    f"{path}: format version {fmt} is newer than this shopintent supports "
                    f"({FORMAT_VERSION}); upgrade shopintent or retrain the model"
                )
            raw["decision"] = DecisionRule(**raw["decision"])
            return cls(**raw)
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise ArtifactError(
                f"{path} is damaged ({type(exc).__name__}: {exc}); retrain with `shopintent train`"
            ) from None


@dataclass
class OosStats:
    """Embedding-space statistics for distance-based rejection (in-scope classes only)."""

    means: np.ndarray  # (classes, dim) class centroids of mean-pooled features
    precision: np.ndarray  # (dim, dim) inverse of the shared within-class covariance
    bank: np.ndarray | None = None  # (n, dim) unit-length training features, for knn

    def save(self, path: str | Path) -> None:
        """Write the statistics as a NumPy `.npz` file."""
        arrays = {"means": self.means.astype(np.float32), "precision": self.precision}
        if self.bank is not None:
            arrays["bank"] = self.bank.astype(np.float16)
        np.savez(path, **arrays)  # type: ignore[arg-type]

    @classmethod
    def load(cls, path: str | Path) -> OosStats:
        """Read statistics written by `save`."""
        with np.load(path) as data:
            bank = data["bank"].astype(np.float32) if "bank" in data else None
            return cls(means=data["means"], precision=data["precision"], bank=bank)

    def with_bank(self, features: np.ndarray) -> OosStats:
        """Return these statistics plus unit-length copies of `features` for knn."""
        norms = np.linalg.norm(features, axis=1, keepdims=True)
        return OosStats(self.means, self.precision, features / np.maximum(norms, 1e-12))

    def knn_similarity(self, features: np.ndarray, k: int = KNN_K) -> np.ndarray:
        """Return each row's mean cosine similarity to its `k` nearest bank features."""
        if self.bank is None:
            raise ArtifactError(
                "the knn method needs the training features in oos_stats.npz, found none; "
                "retrain with `shopintent train --oos-method knn`"
            )
        x = features / np.maximum(np.linalg.norm(features, axis=1, keepdims=True), 1e-12)
        sims = x @ self.bank.T
        k = min(k, sims.shape[1])
        return np.asarray(np.partition(sims, -k, axis=1)[:, -k:].mean(axis=1))

    @classmethod
    def fit(cls, features: np.ndarray, labels: np.ndarray, shrinkage: float = 0.01) -> OosStats:
        """Estimate class means and a shared, slightly shrunk covariance.

        Args:
            features: (n, dim) feature vectors of in-scope training examples.
            labels: (n,) integer labels.
            shrinkage: share of the average variance added to the diagonal, so a
                covariance estimated from few examples per class stays invertible.
        """
        classes = np.unique(labels)
        means = np.stack([features[labels == c].mean(axis=0) for c in classes])
        centred = features - means[np.searchsorted(classes, labels)]
        cov = centred.T @ centred / max(len(features) - len(classes), 1)
        cov += shrinkage * np.trace(cov) / cov.shape[0] * np.eye(cov.shape[0])
        return cls(means=means, precision=np.linalg.inv(cov).astype(np.float32))

    def distances(self, features: np.ndarray) -> np.ndarray:
        """Return each row's Mahalanobis distance to the nearest class centroid."""
        x = features.astype(np.float64)
        means = self.means.astype(np.float64)
        xp = x @ self.precision
        mp = means @ self.precision
        # (x-m)P(x-m) expanded, so no (n, classes, dim) tensor is ever built.
        d2 = (xp * x).sum(1)[:, None] - 2 * xp @ means.T + (mp * means).sum(1)[None, :]
        return np.sqrt(np.maximum(d2.min(axis=1), 0.0))


def project_version() -> str:
    """Return the installed shopintent version (0.0.0 from an uninstalled tree)."""
    try:
        return version("shopintent")
    except PackageNotFoundError:
        return "0.0.0"


def data_hash(texts: list[str], labels: list[str]) -> str:
    """Return a SHA-256 over the (text, label) pairs, independent of their order."""
    digest = hashlib.sha256()
    for text, label in sorted(zip(texts, labels, strict=True)):
        digest.update(f"{label}\t{text}\n".encode())
    return digest.hexdigest()
