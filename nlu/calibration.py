"""The out-of-scope maths in one place: scores, temperature, thresholds, stored statistics.

A classifier's raw logits and mean-pooled features become a decision here:

1. temperature scaling (`fit_temperature`) makes the top probability a calibrated
   confidence;
2. an in-scope score per message (`in_scope_scores`: softmax, Mahalanobis distance
   or kNN cosine similarity in the fine-tuned feature space, using `OosStats`);
3. a rejection rule (`DecisionRule`): reject when the score is below a threshold
   chosen on validation data (`tune_threshold`), or when the calibrated confidence is
   below a floor (the model is more likely wrong than right).

Everything is fitted on validation data carved from the training data, never on a
test set. NumPy only (torch is imported inside `fit_temperature`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nlu.errors import ArtifactError, TrainDataError

KNN_K = 10
# Below this calibrated confidence the model is more likely wrong than right: the bot
# says it is not sure instead of answering. Not tuned on any data set (see docs/nlu.md).
DEFAULT_MIN_CONFIDENCE = 0.5
THRESHOLD_SOURCES = ("validation-oos", "in-scope-quantile")


@dataclass
class DecisionRule:
    """How raw logits become an intent, a confidence and a rejection (stored in the artifact)."""

    temperature: float
    oos_method: str  # "softmax", "mahalanobis" or "knn": which in-scope score
    threshold: float  # reject when the method's in-scope score is below this
    oos_label: str | None  # label of the explicit OOS class, None when the data had none
    threshold_source: str  # "validation-oos" (tuned on OOS examples) or "in-scope-quantile"
    stats_file: str | None = None  # embedding statistics for distance-based methods
    # Reject when the calibrated top confidence is below this (0: never; older artifacts).
    min_confidence: float = 0.0


@dataclass
class RawOutputs:
    """Model outputs for a batch of messages, before the decision rule."""

    logits: np.ndarray  # (n, labels)
    features: np.ndarray | None  # (n, hidden) mean-pooled last layer, when requested


@dataclass
class Decisions:
    """The decision rule applied to a batch of messages."""

    probs: np.ndarray  # (n, labels) temperature-scaled probabilities
    top: np.ndarray  # (n,) index of the most likely label
    scores: np.ndarray  # (n,) in-scope score of the OOS method (higher = more in scope)
    rejected: np.ndarray  # (n,) bool: score below the threshold or confidence below the floor


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
        return OosStats(self.means, self.precision, unit_rows(features))

    def knn_similarity(self, features: np.ndarray, k: int = KNN_K) -> np.ndarray:
        """Return each row's mean cosine similarity to its `k` nearest bank features."""
        if self.bank is None:
            raise ArtifactError(
                "the knn method needs the training features in oos_stats.npz, found none; "
                "retrain with `shopintent train --oos-method knn`"
            )
        return knn_similarity(unit_rows(features), self.bank, k)

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


def unit_rows(x: np.ndarray) -> np.ndarray:
    """Return `x` with every row scaled to unit length (zero rows stay zero)."""
    return np.asarray(x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12))


def knn_similarity(queries: np.ndarray, bank: np.ndarray, k: int = KNN_K) -> np.ndarray:
    """Mean cosine similarity of each unit-length query row to its `k` nearest bank rows."""
    sims = queries @ bank.T
    k = min(k, sims.shape[1])
    return np.asarray(np.partition(sims, -k, axis=1)[:, -k:].mean(axis=1))


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """Return row-wise softmax of `logits / temperature`."""
    z = logits / temperature
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return np.asarray(e / e.sum(axis=1, keepdims=True))


def in_scope_scores(
    method: str, probs: np.ndarray, features: np.ndarray | None, stats: OosStats | None
) -> np.ndarray:
    """Return each message's in-scope score under `method` (higher = more in scope).

    `softmax`: the calibrated top probability. `mahalanobis`: minus the Mahalanobis
    distance of the mean-pooled features to the nearest in-scope class centroid.
    `knn`: the mean cosine similarity to the 10 nearest in-scope training examples.
    """
    if method == "softmax":
        return np.asarray(probs.max(axis=1))
    if method in ("mahalanobis", "knn"):
        if features is None or stats is None:
            raise ArtifactError(
                f"the {method} method needs features and embedding statistics; the "
                "model's oos_stats file is missing, retrain with `shopintent train`"
            )
        if method == "knn":
            return stats.knn_similarity(features)
        return -stats.distances(features)
    raise ArtifactError(
        f"unknown OOS method {method!r}: expected softmax, mahalanobis or knn; "
        "retrain with `shopintent train`"
    )


def decide(outputs: RawOutputs, rule: DecisionRule, stats: OosStats | None = None) -> Decisions:
    """Apply temperature scaling and the rejection rule to raw outputs."""
    probs = softmax(outputs.logits, rule.temperature)
    scores = in_scope_scores(rule.oos_method, probs, outputs.features, stats)
    rejected = (scores < rule.threshold) | (probs.max(axis=1) < rule.min_confidence)
    return Decisions(probs=probs, top=probs.argmax(axis=1), scores=scores, rejected=rejected)


def fit_temperature(logits: np.ndarray, labels: np.ndarray) -> float:
    """Return the temperature minimising the validation negative log-likelihood."""
    import torch

    if len(labels) == 0:
        return 1.0
    x = torch.tensor(logits, dtype=torch.float64)
    y = torch.tensor(labels, dtype=torch.long)
    log_t = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([log_t], lr=0.1, max_iter=200, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(x / log_t.exp(), y)
        loss.backward()
        return loss

    opt.step(closure)
    temperature = float(log_t.detach().exp().item())
    return min(max(temperature, 0.05), 20.0)


@dataclass
class ThresholdChoice:
    """A rejection threshold and the validation numbers it gives."""

    threshold: float
    source: str  # one of THRESHOLD_SOURCES
    in_scope_accuracy: float
    in_scope_rejection: float
    oos_recall: float | None


def tune_threshold(
    scores: np.ndarray,
    y: np.ndarray,
    top: np.ndarray,
    oos_index: int | None,
    target_rejection: float,
    max_rejection: float = 0.05,
    *,
    also_rejected: np.ndarray | None = None,
) -> ThresholdChoice:
    """Choose the in-scope score below which a message is rejected.

    With out-of-scope examples in the validation data the threshold maximises the
    validation accuracy with OOS as a class: in-scope accuracy (a rejected in-scope
    message counts as wrong) and OOS recall (a message predicted as the OOS class
    counts as caught), weighted by the validation part's own mix of the two,
    rejecting at most `max_rejection` of the in-scope messages. Without them it rejects
    `target_rejection` of in-scope validation messages. Both budgets count the
    messages `also_rejected` (the confidence floor) rejects anyway: the distance
    threshold spends only what the floor leaves.

    Args:
        scores: (n,) in-scope scores, higher = more in scope.
        y: (n,) true label ids.
        top: (n,) predicted label ids.
        oos_index: label id of the OOS class, None when the data has none.
        target_rejection: share of in-scope messages to reject without OOS examples.
        max_rejection: largest share of in-scope messages a tuned threshold may reject.
        also_rejected: (n,) messages rejected whatever the threshold (the confidence floor).
    """
    is_oos = y == oos_index if oos_index is not None else np.zeros(len(y), dtype=bool)
    ins = ~is_oos
    correct = (top == y) & ins
    floor = also_rejected if also_rejected is not None else np.zeros(len(y), dtype=bool)
    if not ins.any():
        raise TrainDataError(
            f"the validation part holds {len(y)} examples and no in-scope ones; expected "
            "in-scope examples to tune the rejection threshold on"
        )
    if is_oos.sum() >= 2:
        values = np.unique(scores)
        if len(values) > 2000:
            values = np.unique(np.quantile(scores, np.linspace(0, 1, 2001)))
        # Midpoints between neighbouring scores: the threshold sits in the gap, not on a message.
        candidates = np.concatenate(
            [[values[0] - 1e-6], (values[:-1] + values[1:]) / 2, [values[-1] + 1e-6]]
        )
        rejected = (scores[None, :] < candidates[:, None]) | floor[None, :]
        caught_class = top == oos_index
        in_acc = (correct[None, :] & ~rejected)[:, ins].mean(axis=1)
        oos_rec = (rejected | caught_class[None, :])[:, is_oos].mean(axis=1)
        # Weighted by the data's own mix: the unweighted mean (a 50 % OOS prior) rejected
        # 3 % of the shop's in-scope test messages for 0 extra OOS caught (docs/nlu.md).
        share = float(is_oos.mean())
        objective = (1 - share) * in_acc + share * oos_rec
        # A handful of OOS examples must not buy their recall with a large in-scope loss.
        too_many = rejected[:, ins].mean(axis=1) > max(max_rejection, floor[ins].mean())
        objective[too_many] = -np.inf
        # Among equally good thresholds take the lowest: it rejects the fewest in-scope messages.
        best = int(np.flatnonzero(objective >= objective.max() - 1e-12)[0])
        threshold, source = float(candidates[best]), "validation-oos"
    else:
        # The in-scope budget counts the floor's rejections (mostly wrong answers anyway,
        # as with OOS examples above): the distance threshold spends what is left of it.
        left = target_rejection - floor[ins].mean()
        kept = scores[ins & ~floor]
        if left <= 0 or len(kept) == 0:
            threshold = float(scores[ins].min()) - 1e-6
        else:
            threshold = float(np.quantile(kept, min(1.0, left / (1 - floor[ins].mean()))))
        source = "in-scope-quantile"
    rejected_now = (scores < threshold) | floor
    oos_recall = None
    if is_oos.any():
        oos_recall = float((rejected_now | (top == oos_index))[is_oos].mean())
    return ThresholdChoice(
        threshold=threshold,
        source=source,
        in_scope_accuracy=float((correct & ~rejected_now)[ins].mean()),
        in_scope_rejection=float(rejected_now[ins].mean()),
        oos_recall=oos_recall,
    )


@dataclass
class CalibrationInputs:
    """Model outputs calibration works from; computed once, reusable across methods."""

    validation: RawOutputs  # with features
    train_features: np.ndarray  # (m, dim) features of a per-intent sample of training data
    train_labels: np.ndarray  # (m,) their label ids


@dataclass
class Calibration:
    """The decision rule chosen on validation data, plus what it needs."""

    rule: DecisionRule
    stats: OosStats | None
    metrics: dict[str, float]


def expected_calibration_error(
    confidence: np.ndarray, correct: np.ndarray, bins: int = 15
) -> float:
    """Return the ECE: the bin-weighted gap between confidence and accuracy.

    Args:
        confidence: (n,) confidence of each prediction.
        correct: (n,) whether each prediction was right.
        bins: equal-width confidence bins over [0, 1].
    """
    confidence = np.asarray(confidence, dtype=np.float64)
    correct = np.asarray(correct, dtype=np.float64)
    if len(confidence) == 0:
        return 0.0
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, bins - 1)
    ece = 0.0
    for b in range(bins):
        mask = which == b
        if mask.any():
            ece += mask.mean() * abs(confidence[mask].mean() - correct[mask].mean())
    return float(ece)


def calibrate(
    inputs: CalibrationInputs,
    y_val: np.ndarray,
    *,
    method: str,
    oos_index: int | None,
    oos_label: str | None,
    stats_file: str,
    target_rejection: float,
    max_rejection: float,
    min_confidence: float,
) -> Calibration:
    """Fit the temperature, the statistics and the rejection threshold on validation data.

    Args:
        inputs: model outputs from the validation part and a sample of training data.
        y_val: (n,) true label ids of the validation part.
        method: in-scope score (softmax, mahalanobis, knn).
        oos_index: label id of the OOS class, None when the data has none.
        oos_label: its name (stored in the rule when the data has it).
        stats_file: file name the statistics will be saved under.
        target_rejection: share of in-scope validation rejected without OOS examples.
        max_rejection: most in-scope validation a threshold tuned on OOS may reject.
        min_confidence: calibrated confidence below which a message is rejected.
    """
    val_out = inputs.validation
    temperature = fit_temperature(val_out.logits, y_val)
    stats = None
    if method in ("mahalanobis", "knn"):
        y_train = inputs.train_labels
        keep = y_train != oos_index if oos_index is not None else np.ones(len(y_train), bool)
        stats = OosStats.fit(inputs.train_features[keep], y_train[keep])
        if method == "knn":
            stats = stats.with_bank(inputs.train_features[keep])
    probs = softmax(val_out.logits, temperature)
    scores = in_scope_scores(method, probs, val_out.features, stats)
    top = probs.argmax(axis=1)
    low_confidence = probs.max(axis=1) < min_confidence
    if oos_index is not None:
        # A message the model puts in the OOS class is answered as that class, never "unsure".
        low_confidence &= top != oos_index
    choice = tune_threshold(
        scores,
        y_val,
        top,
        oos_index,
        target_rejection,
        max_rejection,
        also_rejected=low_confidence,
    )
    rule = DecisionRule(
        temperature=temperature,
        oos_method=method,
        threshold=choice.threshold,
        oos_label=oos_label if oos_index is not None else None,
        threshold_source=choice.source,
        stats_file=stats_file if stats is not None else None,
        min_confidence=min_confidence,
    )
    metrics: dict[str, float] = {
        "n": float(len(y_val)),
        "accuracy_before_rejection": float((top == y_val).mean()) if len(y_val) else 0.0,
        "in_scope_accuracy": choice.in_scope_accuracy,
        "in_scope_rejection": choice.in_scope_rejection,
        "ece": expected_calibration_error(probs.max(axis=1), top == y_val),
        "ece_uncalibrated": expected_calibration_error(
            softmax(val_out.logits).max(axis=1), top == y_val
        ),
    }
    if choice.oos_recall is not None:
        metrics["oos_recall"] = choice.oos_recall
    return Calibration(rule=rule, stats=stats, metrics=metrics)


def refit_statistics(
    calibration: Calibration, inputs: CalibrationInputs, oos_index: int | None
) -> Calibration:
    """Keep the rule; re-estimate the embedding statistics from a retrained model's features.

    Used when the model is trained again on train + validation: the temperature,
    threshold and floor chosen on the held-out validation part stay, while the class
    means and the kNN bank must come from the model that will serve.
    """
    if calibration.stats is None:
        return calibration
    y = inputs.train_labels
    keep = y != oos_index if oos_index is not None else np.ones(len(y), bool)
    stats = OosStats.fit(inputs.train_features[keep], y[keep])
    if calibration.stats.bank is not None:
        stats = stats.with_bank(inputs.train_features[keep])
    return Calibration(rule=calibration.rule, stats=stats, metrics=calibration.metrics)
