"""The end of a run: calibrate the decision rule on the validation part, save the artifact.

`calibration_inputs` runs the fine-tuned model over the validation part and a sample of
the training data; `calibrate` fits the temperature and the rejection rule on them;
`save_artifact` writes the model, tokenizer, statistics, checked ONNX exports
(`export_to`) and `shopintent.json` into place atomically.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from core.artifacts import staged_folder
from nlu.artifact import STATS_FILE, ArtifactMeta
from nlu.calibration import (
    Calibration,
    CalibrationInputs,
    DecisionRule,
    OosStats,
    RawOutputs,
    decide,
)
from nlu.calibration import calibrate as calibrate_rule
from nlu.classifier import forward
from nlu.config import TrainConfig
from nlu.fine_tuning import resolve_base_model
from nlu.training_data import TrainingData

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

logger = logging.getLogger(__name__)


# Per-intent cap on the training examples whose features estimate the class means and
# covariance; more adds little to a 384-dim estimate and costs a forward pass each.
STATS_PER_INTENT = 100


def calibration_inputs(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    data: TrainingData,
    max_length: int,
    *,
    seed: int = 0,
    per_intent: int = STATS_PER_INTENT,
    pooling: str = "cls",
) -> CalibrationInputs:
    """Run the model over the validation part and a per-intent sample of training data."""
    index = {name: i for i, name in enumerate(data.labels)}
    rng = np.random.default_rng(seed)
    by_label: dict[str, list[int]] = {}
    for i, label in enumerate(data.train.labels):
        by_label.setdefault(label, []).append(i)
    sample: list[int] = []
    for label in sorted(by_label):
        idx = by_label[label]
        take = rng.choice(len(idx), size=min(per_intent, len(idx)), replace=False)
        sample.extend(idx[int(k)] for k in take)
    sample.sort()
    model.eval()
    train_out = forward(
        model,
        tokenizer,
        [data.train.texts[i] for i in sample],
        max_length=max_length,
        features=True,
        progress=True,
        pooling=pooling,
    )
    val_out = forward(
        model,
        tokenizer,
        data.validation.texts,
        max_length=max_length,
        features=True,
        progress=True,
        pooling=pooling,
    )
    assert train_out.features is not None  # forward(features=True)
    return CalibrationInputs(
        validation=val_out,
        train_features=train_out.features,
        train_labels=np.array([index[data.train.labels[i]] for i in sample], dtype=np.int64),
    )


def calibrate(
    config: TrainConfig,
    data: TrainingData,
    inputs: CalibrationInputs,
    *,
    method: str | None = None,
) -> Calibration:
    """Fit the temperature and the rejection rule on the validation part.

    Args:
        config: training settings (OOS label, method, rejection targets, confidence floor).
        data: the training data with its validation part.
        inputs: model outputs from `calibration_inputs`.
        method: OOS method to use instead of `config.oos_method`.
    """
    index = {name: i for i, name in enumerate(data.labels)}
    return calibrate_rule(
        inputs,
        np.array([index[x] for x in data.validation.labels], dtype=np.int64),
        method=method or config.oos_method,
        oos_index=index.get(config.oos_label),
        oos_label=config.oos_label,
        stats_file=STATS_FILE,
        target_rejection=config.target_in_scope_rejection,
        max_rejection=config.max_in_scope_rejection,
        min_confidence=config.min_confidence,
    )


def save_artifact(
    output_dir: str | Path,
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    config: TrainConfig,
    data: TrainingData,
    calibration: Calibration,
    train_seconds: float,
    train_steps: int | None = None,
    refit: bool = False,
    check_texts: list[str] | None = None,
) -> Path:
    """Write the model, tokenizer, statistics, ONNX exports and `shopintent.json`.

    The directory is written next to the target and renamed into place, so a
    crash never leaves a half-written model where a server would load it. With
    `config.onnx`, `model.onnx` and `model.int8.onnx` are exported and checked against
    PyTorch on `check_texts`; an export that fails is logged and the artifact serves
    with PyTorch.
    """
    output_dir = Path(output_dir)
    with staged_folder(output_dir) as staging:
        model.save_pretrained(staging)
        tokenizer.save_pretrained(staging)
        if calibration.stats is not None:
            calibration.stats.save(staging / STATS_FILE)
        meta = ArtifactMeta(
            base_model=resolve_base_model(config.base_model),
            data_hash=data.data_hash,
            labels=list(data.labels),
            decision=calibration.rule,
            max_length=config.max_length,
            entities=data.entities,
            validation=calibration.metrics,
            train_config=config.to_dict(),
            train_seconds=round(train_seconds, 1),
            pooling=config.pooling,
            train_steps=train_steps,
            refit=refit,
        )
        if config.onnx:
            meta.onnx = export_to(staging, model, tokenizer, meta, check_texts or [])
        meta.save(staging)
    return output_dir


def export_to(
    directory: Path,
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    meta: ArtifactMeta,
    check_texts: list[str],
) -> dict[str, Any] | None:
    """Export ONNX and int8 ONNX into `directory`; None (logged) when the export fails."""
    from nlu.export import ExportError, export_onnx

    print("exporting ONNX and int8 ONNX, checking them against PyTorch ...", flush=True)
    try:
        info = export_onnx(directory, model, tokenizer, meta, check_texts)
    except ExportError as exc:
        logger.warning("%s; the model will serve with PyTorch", exc)
        return None
    for backend, check in info["checks"].items():
        verdict = "passed" if check["passed"] else "FAILED (auto serves PyTorch)"
        print(
            f"  {backend}: {check['agreement']:.1%} same intent on {check['n']} messages, "
            f"top confidence within {check['p99_confidence_diff']:.3f} for 99 % "
            f"(at most {check['max_confidence_diff']:.3f}): {verdict}",
            flush=True,
        )
    return info


def evaluate_decisions(
    outputs: RawOutputs,
    rule: DecisionRule,
    stats: OosStats | None,
) -> np.ndarray:
    """Return predicted label ids with -1 for rejected messages (benchmarks use this)."""
    d = decide(outputs, rule, stats)
    return np.where(d.rejected, -1, d.top)
