"""The recommender artifact: a folder with `model.pt` (the state_dict) and `recs.json`.

`recs.json` describes the model fully: the training settings (which rebuild the
network), the item index (item token -> index), how many shoppers and interactions it
learnt from, the validation and test metrics, the data hash, when it was made and by
which version. The folder is written next to its target and renamed into place, so a
crash never leaves a half-written model where a server would load it.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from core.artifacts import meta_json, open_meta, project_version, staged_folder, version_stamp
from recs.errors import ArtifactError, NotAModelError

META_FILE = "recs.json"
WEIGHTS_FILE = "model.pt"
FORMAT_VERSION = 1


@dataclass
class RecsMeta:
    """Contents of `recs.json`.

    Attributes:
        config: the `RecsConfig` the model was trained with (as a dict).
        item_index: item token -> index (1..N; 0 is padding).
        n_shoppers: shoppers in the training data.
        n_interactions: (shopper, item) steps in the training data.
        metrics: `{"validation": {...}, "test": {...}}`, each with `hr@10`, `ndcg@10`,
            `full_hr@10`, `full_ndcg@10`.
        data_hash: `Interactions.data_hash()` of the training data.
        source: where the data came from (a path, or a URL without its password).
        train_seconds: wall time of training.
        best_epoch: the epoch whose weights were kept (best validation score).
        epochs_run: how many epochs ran.
    """

    config: dict[str, Any]
    item_index: dict[str, int]
    n_shoppers: int
    n_interactions: int
    metrics: dict[str, dict[str, float]]
    data_hash: str
    source: str = ""
    train_seconds: float = 0.0
    best_epoch: int = 0
    epochs_run: int = 0
    created: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    version: str = field(default_factory=project_version)
    format_version: int = FORMAT_VERSION

    @property
    def model_version(self) -> str:
        """A stable id of this model: creation time plus the training-data hash."""
        return version_stamp(self.created, self.data_hash)

    def to_json(self) -> str:
        """The JSON text of `recs.json`."""
        payload = asdict(self)
        payload["model_version"] = self.model_version
        return meta_json(payload)

    @classmethod
    def load(cls, directory: str | Path) -> RecsMeta:
        """Read `recs.json` from an artifact folder.

        Raises:
            NotAModelError: the folder, its `recs.json` or its `model.pt` is missing.
            ArtifactError: the JSON is damaged or from a newer format.
        """
        path = Path(directory) / META_FILE
        try:
            raw = open_meta(
                directory,
                [META_FILE, WEIGHTS_FILE],
                FORMAT_VERSION,
                missing=NotAModelError,
                too_new=ArtifactError,
                no_folder_message="recommender directory {directory} not found: expected a "
                "folder written by `shopintent recs train`; train one with "
                "`shopintent recs train --output DIR`",
                not_artifact_message="{directory} is not a recommender: expected {expected}, "
                "found no {missing}; train one with `shopintent recs train`",
                too_new_message="{path}: expected format version {supported} or older, found "
                "{found}; upgrade shopintent or retrain with `shopintent recs train`",
            )
            meta = cls(**raw)
        except (json.JSONDecodeError, TypeError, ValueError, AttributeError) as exc:
            raise ArtifactError(
                f"{path} is damaged ({type(exc).__name__}: {exc}); retrain with "
                "`shopintent recs train`"
            ) from None
        return meta


def save_artifact(directory: str | Path, state_dict: dict[str, Any], meta: RecsMeta) -> Path:
    """Write `model.pt` and `recs.json` into `directory` atomically; return it.

    The files go to a temporary folder beside the target, which then replaces the
    target in one rename.
    """
    import torch

    directory = Path(directory)
    with staged_folder(directory) as staging:
        torch.save(state_dict, staging / WEIGHTS_FILE)
        (staging / META_FILE).write_text(meta.to_json(), encoding="utf-8")
    return directory
