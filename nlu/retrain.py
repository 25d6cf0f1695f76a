"""Retrain on the training data plus reviewed turns, and promote only through a gate.

`retrain` trains a candidate into the model registry, scores it and the serving model
on the fixed test split and on the annotated (reviewed) turns, prints both side by side,
and promotes the candidate only when `gate` allows it:

* test split: the candidate's macro-F1 may fall by at most `max_test_drop` (0.01);
* annotated turns: the candidate's accuracy must be at least the serving model's plus
  `min_annotated_gain` (0.0, i.e. "not worse"; raise it to demand an improvement).

A refused candidate stays in the registry as `rejected` (for inspection) and the old
model keeps serving. The annotated turns are part of the candidate's training data, so
that score measures whether the corrections were learnt, not generalisation; the test
split is what guards against regressions.

>>> result = retrain(RetrainConfig(train=TrainConfig(epochs=3)))  # doctest: +SKIP
>>> result.decision.promote  # doctest: +SKIP
True
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from core.paths import ARTIFACT_FILE, DEFAULT_MODEL_DIR
from core.wire import FALLBACK_INTENT, OOS_LABEL
from nlu.config import TrainConfig
from nlu.data import Example, read_nlu
from nlu.errors import NluError
from nlu.registry import ModelVersion, Registry

if TYPE_CHECKING:
    from nlu.classifier import IntentClassifier

DEFAULT_ANNOTATIONS = Path("training_data/annotated.yml")
DEFAULT_TEST_DATA = Path("training_data/test")
DEFAULT_REGISTRY = Path("models")
DEFAULT_BASELINE = Path(DEFAULT_MODEL_DIR)
METRICS = ("accuracy", "macro_f1")


class GateConfigError(NluError, ValueError):
    """A gate setting is out of range."""


class NoTestDataError(NluError):
    """The fixed test split is missing or empty, so the gate cannot judge a candidate."""


@dataclass
class GateConfig:
    """When a candidate may replace the serving model.

    Attributes:
        max_test_drop: Largest allowed fall of the test-split metric (0.01 = one point).
        min_annotated_gain: Least required rise of the annotated-turns metric; 0 means
            "not worse", a positive number demands an improvement.
        test_metric: `macro_f1` or `accuracy`, compared on the test split.
        annotated_metric: `accuracy` or `macro_f1`, compared on the annotated turns.
    """

    max_test_drop: float = 0.01
    min_annotated_gain: float = 0.0
    test_metric: str = "macro_f1"
    annotated_metric: str = "accuracy"

    def __post_init__(self) -> None:
        if not 0.0 <= self.max_test_drop <= 1.0:
            raise GateConfigError(
                f"max_test_drop: expected a number in [0, 1], found {self.max_test_drop!r}"
            )
        if not -1.0 <= self.min_annotated_gain <= 1.0:
            raise GateConfigError(
                f"min_annotated_gain: expected a number in [-1, 1], found "
                f"{self.min_annotated_gain!r}"
            )
        for name in ("test_metric", "annotated_metric"):
            if getattr(self, name) not in METRICS:
                raise GateConfigError(
                    f"{name}: expected one of {METRICS}, found {getattr(self, name)!r}"
                )


@dataclass(frozen=True)
class Scores:
    """How one model did on one set of examples."""

    n: int
    accuracy: float
    macro_f1: float

    def get(self, metric: str) -> float:
        """The named metric (`accuracy` or `macro_f1`)."""
        return float(getattr(self, metric))


@dataclass(frozen=True)
class ModelReport:
    """One model's scores on the test split and on the annotated turns."""

    version: str
    test: Scores
    annotated: Scores | None


@dataclass
class GateDecision:
    """The gate's verdict and every reason behind it."""

    promote: bool
    reasons: list[str] = field(default_factory=list)


def score_predictions(gold: Sequence[str], predicted: Sequence[str]) -> Scores:
    """Accuracy and macro-F1 over the gold intents.

    Args:
        gold: The true intents.
        predicted: The model's intents, already mapped from `nlu_fallback` to the
            out-of-scope label where the data has one.

    Returns:
        The scores; an empty set scores 0 with `n == 0`.
    """
    if len(gold) != len(predicted):
        raise ValueError(
            f"expected as many predictions as gold labels: {len(predicted)} vs {len(gold)}"
        )
    if not gold:
        return Scores(n=0, accuracy=0.0, macro_f1=0.0)
    from sklearn.metrics import f1_score

    labels = sorted(set(gold))
    accuracy = sum(g == p for g, p in zip(gold, predicted, strict=True)) / len(gold)
    macro = f1_score(list(gold), list(predicted), labels=labels, average="macro", zero_division=0)
    return Scores(n=len(gold), accuracy=round(accuracy, 4), macro_f1=round(float(macro), 4))


def score_model(classifier: IntentClassifier, examples: Sequence[Example]) -> Scores:
    """Classify `examples` and score the predictions against their intents.

    A rejected message (`nlu_fallback`) counts as the model's out-of-scope label, so
    rejecting an out-of-scope test message is a correct answer.
    """
    if not examples:
        return Scores(n=0, accuracy=0.0, macro_f1=0.0)
    oos = classifier.meta.decision.oos_label or OOS_LABEL
    predicted = classifier.predicted_names(classifier.decide([e.text for e in examples]))
    predicted = [oos if p == FALLBACK_INTENT else p for p in predicted]
    return score_predictions([e.intent for e in examples], predicted)


def gate(current: ModelReport | None, candidate: ModelReport, config: GateConfig) -> GateDecision:
    """Decide whether `candidate` may replace `current`.

    Args:
        current: The serving model's report, or None when nothing serves yet.
        candidate: The new model's report.
        config: The tolerances.

    Returns:
        The verdict with one reason per check, each naming the numbers compared.
    """
    if current is None:
        return GateDecision(True, ["no model is serving yet, so the candidate is promoted"])
    reasons: list[str] = []
    ok = True
    metric = config.test_metric
    cur, cand = current.test.get(metric), candidate.test.get(metric)
    drop = cur - cand
    if drop > config.max_test_drop + 1e-9:
        ok = False
        reasons.append(
            f"test split {metric} fell from {cur:.4f} to {cand:.4f} (-{drop:.4f}), more than "
            f"the allowed {config.max_test_drop:.4f}"
        )
    else:
        reasons.append(
            f"test split {metric} {cur:.4f} -> {cand:.4f} is within the allowed drop of "
            f"{config.max_test_drop:.4f}"
        )
    if candidate.annotated is None or current.annotated is None or candidate.annotated.n == 0:
        reasons.append("no annotated turns to compare on")
    else:
        metric = config.annotated_metric
        cur, cand = current.annotated.get(metric), candidate.annotated.get(metric)
        need = cur + config.min_annotated_gain
        if cand + 1e-9 < need:
            ok = False
            reasons.append(
                f"annotated turns {metric} {cur:.4f} -> {cand:.4f}, below the required "
                f"{need:.4f} (current + {config.min_annotated_gain:.4f})"
            )
        else:
            reasons.append(
                f"annotated turns {metric} {cur:.4f} -> {cand:.4f} meets the required {need:.4f}"
            )
    return GateDecision(ok, reasons)


def comparison_table(current: ModelReport | None, candidate: ModelReport) -> str:
    """Both models' scores side by side, one row per set and metric, with the change."""
    head = (
        "",
        f"current {current.version}" if current else "current (none)",
        f"candidate {candidate.version}",
        "change",
    )
    rows: list[tuple[str, str, str, str]] = []
    sets: list[tuple[str, Scores | None, Scores | None]] = [
        ("test split", current.test if current else None, candidate.test),
        ("annotated turns", current.annotated if current else None, candidate.annotated),
    ]
    for name, cur, cand in sets:
        shown = cand or cur
        n = shown.n if shown is not None else 0
        rows.append((f"{name} (n={n})", "", "", ""))
        for metric in METRICS:
            a = cur.get(metric) if cur and cur.n else None
            b = cand.get(metric) if cand and cand.n else None
            change = f"{b - a:+.4f}" if a is not None and b is not None else ""
            rows.append(
                (
                    f"  {metric.replace('_', '-')}",
                    f"{a:.4f}" if a is not None else "-",
                    f"{b:.4f}" if b is not None else "-",
                    change,
                )
            )
    widths = [max(len(r[i]) for r in (head, *rows)) for i in range(4)]
    lines = [
        "  ".join(
            cell.ljust(widths[i]) if i == 0 else cell.rjust(widths[i]) for i, cell in enumerate(row)
        ).rstrip()
        for row in (head, *rows)
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


@dataclass
class RetrainConfig:
    """Settings of one `shopintent retrain` run.

    Attributes:
        train: Training settings; `data` is the base training data, `output_dir` is ignored
            (the candidate goes into the registry).
        annotations: Reviewed-turn files added to the training data (missing ones skipped).
        test_data: The fixed test split both models are scored on.
        registry: The model registry folder.
        baseline: The model serving when the registry is still empty (`models/default`);
            it is registered and promoted first so that `models rollback` can return to it.
        gate: The promotion tolerances.
        promote: False scores and registers the candidate but never promotes it.
        warm_start: Fine-tune the serving model instead of the base encoder when both
            know the same intents: a few epochs then suffice and the test score stays put.
            With a new intent the candidate starts from the base encoder.
        annotation_repeat: How many times each annotated turn enters the training data;
            a reviewed correction is worth more than one of thousands of examples.
    """

    train: TrainConfig = field(default_factory=TrainConfig)
    annotations: list[Path] = field(default_factory=lambda: [DEFAULT_ANNOTATIONS])
    test_data: Path = DEFAULT_TEST_DATA
    registry: Path = DEFAULT_REGISTRY
    baseline: Path | None = DEFAULT_BASELINE
    gate: GateConfig = field(default_factory=GateConfig)
    promote: bool = True
    warm_start: bool = False
    annotation_repeat: int = 1

    def __post_init__(self) -> None:
        if not 1 <= self.annotation_repeat <= 100:
            raise GateConfigError(
                f"annotation_repeat: expected a whole number in 1..100, found "
                f"{self.annotation_repeat!r}"
            )


@dataclass
class RetrainResult:
    """What `retrain` did."""

    candidate: ModelVersion
    current: ModelReport | None
    candidate_report: ModelReport
    decision: GateDecision
    table: str
    train_seconds: float

    @property
    def promoted(self) -> bool:
        """True when the candidate serves now."""
        return self.decision.promote and self.candidate.status == "promoted"


def _read_examples(paths: Sequence[Path]) -> list[Example]:
    present = [p for p in paths if Path(p).exists()]
    return read_nlu(present).examples if present else []


def _labels_of(model_dir: Path) -> list[str]:
    from nlu.artifact import ArtifactMeta

    return list(ArtifactMeta.load(model_dir).labels)


def _not_inside(paths: Sequence[Path], folders: Sequence[str]) -> list[Path]:
    """The paths that the training data folders do not already include."""
    roots = [Path(f).resolve() for f in folders]
    return [p for p in paths if not any(Path(p).resolve().is_relative_to(r) for r in roots)]


def _serving(registry: Registry, baseline: Path | None, say: Callable[[str], None]) -> Path | None:
    current = registry.current_path()
    if current is not None:
        return current
    if baseline is not None and (Path(baseline) / ARTIFACT_FILE).is_file():
        entry = registry.register(Path(baseline), source="register")
        registry.promote(entry.version)
        say(f"registered the serving model {baseline} as {entry.version}")
        return registry.root / entry.path
    return None


def retrain(config: RetrainConfig, *, say: Callable[[str], None] = print) -> RetrainResult:
    """Train a candidate, compare it with the serving model, and promote it if the gate allows.

    Args:
        config: What to train on, where the registry is, and the gate's tolerances.
        say: Where progress lines go (`print` on the command line).

    Returns:
        The candidate's registry entry, both reports, the verdict and the printed table.

    Raises:
        NoTestDataError: The test split is missing or empty.
        nlu.data.DataNotFoundError, nlu.data.DataFormatError: The data cannot be read.
    """
    from nlu.classifier import IntentClassifier
    from nlu.training import train

    test_examples = _read_examples([config.test_data])
    if not test_examples:
        raise NoTestDataError(
            f"expected a fixed test split at {config.test_data} (Rasa NLU YAML), found none; "
            "the gate needs it to compare models. Name the test split to use.",
            options=("test_data",),
        )
    annotations = [p for p in config.annotations if Path(p).exists()]
    annotated = _read_examples(annotations)
    registry = Registry(config.registry)
    serving_path = _serving(registry, config.baseline, say)

    extra = _not_inside(annotations, config.train.data)
    data = [*config.train.data, *(str(p) for p in extra for _ in range(config.annotation_repeat))]
    overrides: dict[str, object] = {"data": data}
    if config.warm_start and serving_path is not None:
        intents = {e.intent for e in read_nlu([*config.train.data, *map(str, extra)]).examples}
        known = _labels_of(serving_path)
        if intents == set(known):
            overrides.update(base_model=str(serving_path), num_hidden_layers=None)
            say(f"warm start: fine-tuning the serving model {serving_path.name}")
        else:
            new = sorted(intents - set(known)) or sorted(set(known) - intents)
            say(f"no warm start: the intents differ from the serving model's ({', '.join(new)})")
    staging = registry.staging_dir()
    train_config = TrainConfig(
        **{**config.train.to_dict(), **overrides, "output_dir": str(staging)}
    )
    say(
        f"training a candidate on {', '.join(dict.fromkeys(train_config.data))} "
        f"({len(annotated)} annotated turns x{config.annotation_repeat})"
    )
    started = time.perf_counter()
    try:
        train(train_config)
        entry = registry.register(staging, source="retrain")
    except BaseException:
        import shutil

        shutil.rmtree(staging, ignore_errors=True)
        raise
    seconds = time.perf_counter() - started

    say(
        f"scoring candidate {entry.version} and the serving model on {len(test_examples)} test examples"
    )
    candidate = IntentClassifier.load(registry.root / entry.path)
    cand_report = ModelReport(
        entry.version, score_model(candidate, test_examples), score_model(candidate, annotated)
    )
    current_report: ModelReport | None = None
    if serving_path is not None:
        serving = IntentClassifier.load(serving_path)
        current_report = ModelReport(
            serving.version, score_model(serving, test_examples), score_model(serving, annotated)
        )
    decision = gate(current_report, cand_report, config.gate)
    table = comparison_table(current_report, cand_report)
    metrics = {
        "test_accuracy": cand_report.test.accuracy,
        "test_macro_f1": cand_report.test.macro_f1,
    }
    if cand_report.annotated and cand_report.annotated.n:
        metrics["annotated_accuracy"] = cand_report.annotated.accuracy
    note = "; ".join(decision.reasons)
    if decision.promote and config.promote:
        registry.annotate(entry.version, note=note, metrics=metrics)
        entry = registry.promote(entry.version)
    elif decision.promote:
        entry = registry.annotate(
            entry.version,
            note=f"passed the gate, not promoted (--no-promote); {note}",
            metrics=metrics,
        )
    else:
        entry = registry.annotate(entry.version, status="rejected", note=note, metrics=metrics)
    return RetrainResult(entry, current_report, cand_report, decision, table, seconds)


def verdict_text(result: RetrainResult) -> str:
    """The closing lines of `shopintent retrain`: promoted or refused, and why."""
    if result.promoted:
        head = f"PROMOTED {result.candidate.version}: running bots switch to it within seconds."
    elif result.decision.promote:
        head = (
            f"PASSED {result.candidate.version} but not promoted (--no-promote); "
            f"run `shopintent models promote {result.candidate.version}`."
        )
    else:
        current = result.current.version if result.current else "the old model"
        head = (
            f"REFUSED {result.candidate.version}: {current} keeps serving. "
            "The candidate stays in the registry as 'rejected'."
        )
    return "\n".join([head, *(f"  - {reason}" for reason in result.decision.reasons)])
