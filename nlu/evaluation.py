"""Evaluation: reports in `rasa test nlu`'s shape, plots and one summary.

An out-of-scope message counts as right when it is rejected, i.e. predicted as
`nlu_fallback` or as the OOS label. In the per-intent report such a message is
scored as a hit of the OOS label; an in-scope message predicted `nlu_fallback` is
a miss of its intent.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict

import numpy as np

from core.wire import FALLBACK_INTENT, OOS_LABEL
from nlu.calibration import expected_calibration_error
from nlu.errors import NluError

if TYPE_CHECKING:
    from nlu.classifier import IntentClassifier

SUMMARY_KEYS = (
    "n",
    "accuracy",
    "in_scope_accuracy",
    "oos_recall",
    "oos_precision",
    "macro_f1",
    "weighted_f1",
    "ece",
)


class EvalDataError(NluError):
    """The evaluation data holds no examples."""


class IntentPrediction(TypedDict):
    """What the model predicted for one message."""

    name: str
    confidence: float


class IntentError(TypedDict):
    """One wrongly classified message (`intent_errors.json`)."""

    text: str
    intent: str
    intent_prediction: IntentPrediction


@dataclass
class EvalResult:
    """Everything one evaluation produced."""

    summary: dict[str, float | int | None]
    report: dict[str, Any]
    errors: list[IntentError]
    out_dir: Path | None


def intent_report(
    y_true: Sequence[str], y_pred: Sequence[str], labels: Sequence[str]
) -> dict[str, Any]:
    """Per-intent precision/recall/F1/support/confused_with plus averages (Rasa's keys).

    Args:
        y_true: true intents.
        y_pred: predicted intents (may include `nlu_fallback`).
        labels: the intents to report and average over (the true intents).
    """
    from sklearn.metrics import classification_report

    report: dict[str, Any] = classification_report(
        list(y_true), list(y_pred), labels=list(labels), output_dict=True, zero_division=0
    )
    report.pop("micro avg", None)
    report["accuracy"] = float(np.mean([t == p for t, p in zip(y_true, y_pred, strict=True)]))
    confusions: dict[str, Counter[str]] = {label: Counter() for label in labels}
    for t, p in zip(y_true, y_pred, strict=True):
        if t != p and t in confusions:
            confusions[t][p] += 1
    for label in labels:
        entry = report[label]
        entry["support"] = int(entry["support"])
        entry["confused_with"] = dict(confusions[label].most_common(3))
    for avg in ("macro avg", "weighted avg"):
        report[avg]["support"] = int(report[avg]["support"])
    return report


def evaluate(
    classifier: IntentClassifier | str | Path,
    data: str | Path | Sequence[str | Path],
    *,
    oos_label: str | None = None,
    out_dir: str | Path | None = None,
    text_column: str | None = None,
    label_column: str | None = None,
    plots: bool = True,
    backend: str | None = None,
) -> EvalResult:
    """Evaluate a model on labelled data; optionally write reports and plots.

    Uses the data's test split (files under a `test/` folder) when it has one,
    otherwise every example.

    Args:
        classifier: a loaded classifier or a model directory.
        data: Rasa YAML / CSV / JSONL files or folders.
        oos_label: label of out-of-scope examples (default: the model's).
        out_dir: where to write `intent_report.json`, `intent_errors.json` and the
            PNGs; nothing is written when None.
        text_column: CSV/JSONL text column.
        label_column: CSV/JSONL label column.
        plots: also render the PNGs (needs matplotlib).
        backend: inference backend for a model directory (default: as serving picks it).

    Returns:
        The summary, the report, the errors and the output directory.

    Raises:
        EvalDataError: the data holds no examples.

    >>> evaluate("models/default", "training_data/test/nlu.yml").summary["macro_f1"]  # doctest: +SKIP
    0.97...
    """
    from nlu.classifier import IntentClassifier
    from nlu.data import read_splits

    clf = (
        classifier
        if isinstance(classifier, IntentClassifier)
        else IntentClassifier.load(classifier, backend=backend)
    )
    splits = read_splits(data, text_column=text_column, label_column=label_column)
    part = splits["test"] if splits["test"].examples else splits["train"]
    if not part.examples:
        raise EvalDataError(f"no examples found in {data}: expected labelled messages")
    texts = [e.text for e in part.examples]
    y_true = [e.intent for e in part.examples]
    return evaluate_texts(clf, texts, y_true, oos_label=oos_label, out_dir=out_dir, plots=plots)


def evaluate_texts(
    clf: IntentClassifier,
    texts: Sequence[str],
    y_true: Sequence[str],
    *,
    oos_label: str | None = None,
    out_dir: str | Path | None = None,
    plots: bool = True,
) -> EvalResult:
    """Evaluate a loaded classifier on messages and their true intents.

    Args:
        clf: the classifier.
        texts: messages.
        y_true: their true intents.
        oos_label: label of out-of-scope examples (default: the model's).
        out_dir: where to write reports and plots (nothing written when None).
        plots: also render the PNGs.

    Raises:
        EvalDataError: no messages.
    """
    if not texts:
        raise EvalDataError("no examples to evaluate: expected labelled messages")
    texts, y_true = list(texts), list(y_true)
    oos = (
        oos_label
        or clf.meta.decision.oos_label
        or str(clf.meta.train_config.get("oos_label", OOS_LABEL))
    )
    decisions = clf.decide(texts, progress=len(texts) > 500)
    names = clf.predicted_names(decisions)
    top_conf = decisions.probs.max(axis=1)
    confidences = np.where(decisions.rejected, 1.0 - top_conf, top_conf)
    # A rejected OOS message is a hit for the OOS label.
    y_pred = [
        oos if (t == oos and p == FALLBACK_INTENT) else p
        for t, p in zip(y_true, names, strict=True)
    ]
    labels = sorted(set(y_true))
    report = intent_report(y_true, y_pred, labels)
    is_oos = np.array([t == oos for t in y_true])
    pred_reject = np.array([p in (oos, FALLBACK_INTENT) for p in y_pred])
    right = np.array([t == p for t, p in zip(y_true, y_pred, strict=True)])
    model_labels = clf.labels
    top_names = [model_labels[int(i)] for i in decisions.top]
    known = np.array([t in set(model_labels) for t in y_true])
    top_right = np.array([t == p for t, p in zip(y_true, top_names, strict=True)])
    summary: dict[str, float | int | None] = {
        "n": len(texts),
        "accuracy": float(right.mean()),
        "in_scope_accuracy": float(right[~is_oos].mean()) if (~is_oos).any() else None,
        "oos_recall": float(pred_reject[is_oos].mean()) if is_oos.any() else None,
        "oos_precision": float(is_oos[pred_reject].mean()) if pred_reject.any() else None,
        "macro_f1": float(report["macro avg"]["f1-score"]),
        "weighted_f1": float(report["weighted avg"]["f1-score"]),
        "ece": expected_calibration_error(top_conf[known], top_right[known]),
    }
    errors: list[IntentError] = [
        {
            "text": text,
            "intent": t,
            "intent_prediction": {"name": n, "confidence": round(float(c), 6)},
        }
        for text, t, n, p, c in zip(texts, y_true, names, y_pred, confidences, strict=True)
        if t != p
    ]
    out_path: Path | None = None
    if out_dir is not None:
        out_path = Path(out_dir)
        out_path.mkdir(parents=True, exist_ok=True)
        _write_json(out_path / "intent_report.json", report)
        _write_json(out_path / "intent_errors.json", errors)
        _write_json(out_path / "summary.json", summary)
    if out_path is not None and plots:
        plot_confusion_matrix(y_true, y_pred, labels, out_path / "intent_confusion_matrix.png")
        plot_histogram(top_conf, top_right, out_path / "intent_histogram.png")
        plot_reliability(top_conf[known], top_right[known], out_path / "reliability_diagram.png")
    return EvalResult(summary=summary, report=report, errors=errors, out_dir=out_path)


def _write_json(path: Path, payload: Any) -> None:
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def format_summary(summary: dict[str, float | int | None]) -> str:
    """Return the summary as a two-column text table (percentages)."""
    rows = [("messages", str(summary["n"]))]
    names = {
        "accuracy": "accuracy (OOS right when rejected)",
        "in_scope_accuracy": "in-scope accuracy",
        "oos_recall": "OOS recall",
        "oos_precision": "OOS precision",
        "macro_f1": "macro F1",
        "weighted_f1": "weighted F1",
        "ece": "ECE (calibration error)",
    }
    for key, title in names.items():
        value = summary.get(key)
        rows.append((title, "n/a" if value is None else f"{100 * float(value):.2f} %"))
    width = max(len(r[0]) for r in rows)
    line = "-" * (width + 12)
    return "\n".join([line, *(f"{a:<{width}}  {b:>9}" for a, b in rows), line])


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_confusion_matrix(
    y_true: Sequence[str], y_pred: Sequence[str], labels: Sequence[str], path: Path
) -> None:
    """Write a row-normalised confusion matrix sized so 40+ intents stay legible."""
    plt = _pyplot()
    cols = list(labels) + sorted({p for p in y_pred if p not in set(labels)})
    r_index = {name: i for i, name in enumerate(labels)}
    c_index = {name: i for i, name in enumerate(cols)}
    counts = np.zeros((len(labels), len(cols)))
    for t, p in zip(y_true, y_pred, strict=True):
        counts[r_index[t], c_index[p]] += 1
    norm = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    side = max(6.0, 0.32 * len(cols) + 3.0)
    fig, ax = plt.subplots(figsize=(side + 1.5, max(5.0, 0.32 * len(labels) + 3.0)))
    im = ax.imshow(norm, cmap="Blues", vmin=0, vmax=1, aspect="auto")
    fontsize = 9 if len(cols) <= 30 else 7
    ax.set_xticks(range(len(cols)), cols, rotation=90, fontsize=fontsize)
    ax.set_yticks(range(len(labels)), labels, fontsize=fontsize)
    ax.set_xlabel("predicted intent")
    ax.set_ylabel("true intent")
    ax.set_title("Intent confusion matrix (row-normalised; numbers are counts off the diagonal)")
    for i in range(len(labels)):
        for j in range(len(cols)):
            if counts[i, j] and (i != j or len(labels) <= 20):
                ax.text(
                    j,
                    i,
                    str(int(counts[i, j])),
                    ha="center",
                    va="center",
                    fontsize=fontsize,
                    color="white" if norm[i, j] > 0.5 else "black",
                )
    fig.colorbar(im, ax=ax, fraction=0.03, pad=0.01, label="share of the true intent")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_histogram(confidence: np.ndarray, correct: np.ndarray, path: Path) -> None:
    """Write the confidence histogram of right vs wrong top predictions."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 5))
    edges = np.linspace(0, 1, 21)
    ax.hist(
        [confidence[correct], confidence[~correct]],
        bins=edges,
        label=[f"right ({int(correct.sum())})", f"wrong ({int((~correct).sum())})"],
        color=["#2a9d8f", "#e76f51"],
        stacked=False,
    )
    ax.set_yscale("log")
    ax.set_xlabel("top intent confidence (temperature-scaled)")
    ax.set_ylabel("messages (log scale)")
    ax.set_title("Confidence of right and wrong predictions")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_reliability(
    confidence: np.ndarray, correct: np.ndarray, path: Path, bins: int = 10
) -> None:
    """Write a reliability diagram: accuracy per confidence bin against the diagonal."""
    plt = _pyplot()
    edges = np.linspace(0, 1, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, bins - 1)
    acc = np.full(bins, np.nan)
    conf = np.full(bins, np.nan)
    count = np.zeros(bins, dtype=int)
    for b in range(bins):
        mask = which == b
        count[b] = int(mask.sum())
        if count[b]:
            acc[b] = correct[mask].mean()
            conf[b] = confidence[mask].mean()
    centers = (edges[:-1] + edges[1:]) / 2
    fig, ax = plt.subplots(figsize=(6.5, 6.5))
    ax.bar(
        centers,
        np.nan_to_num(acc),
        width=1 / bins,
        edgecolor="black",
        color="#457b9d",
        label="accuracy",
    )
    ax.bar(
        centers,
        np.nan_to_num(conf - acc),
        bottom=np.nan_to_num(acc),
        width=1 / bins,
        edgecolor="#e63946",
        color="#e63946",
        alpha=0.3,
        label="gap to confidence",
    )
    ax.plot([0, 1], [0, 1], "k--", label="perfect calibration")
    for x, n in zip(centers, count, strict=True):
        if n:
            ax.text(
                x,
                0.02,
                str(n),
                ha="center",
                fontsize=8,
                rotation=90,
                bbox={"facecolor": "white", "edgecolor": "none", "pad": 1, "alpha": 0.8},
            )
    ece = expected_calibration_error(confidence, correct)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("confidence")
    ax.set_ylabel("accuracy")
    ax.set_title(f"Reliability diagram (ECE {100 * ece:.2f} %, n={len(confidence)})")
    ax.legend(loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
