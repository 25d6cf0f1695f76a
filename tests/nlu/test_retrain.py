"""Retraining: the promotion gate, the comparison table, and real retrain runs."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest

from nlu.artifact import ArtifactMeta
from nlu.data import read_nlu, write_rasa_nlu
from nlu.registry import LiveModel, Registry
from nlu.retrain import (
    GateConfig,
    GateConfigError,
    ModelReport,
    Scores,
    comparison_table,
    gate,
    score_predictions,
)
from shopintent.cli import main
from tests.conftest import write_quick_config


def report(version: str, test_f1: float, annotated_acc: float | None, n: int = 10) -> ModelReport:
    annotated = (
        Scores(n=n, accuracy=annotated_acc, macro_f1=annotated_acc)
        if annotated_acc is not None
        else None
    )
    return ModelReport(version, Scores(n=100, accuracy=test_f1, macro_f1=test_f1), annotated)


@pytest.mark.parametrize(
    ("current", "candidate", "config", "promote", "reason"),
    [
        (
            report("a", 0.90, 0.20),
            report("b", 0.895, 1.0),
            GateConfig(),
            True,
            "within the allowed drop",
        ),
        (
            report("a", 0.90, 0.20),
            report("b", 0.85, 1.0),
            GateConfig(),
            False,
            "fell from 0.9000 to 0.8500",
        ),
        (
            report("a", 0.90, 0.80),
            report("b", 0.92, 0.60),
            GateConfig(),
            False,
            "annotated turns accuracy 0.8000 -> 0.6000, below the required 0.8000",
        ),
        (
            report("a", 0.90, 0.50),
            report("b", 0.90, 0.50),
            GateConfig(min_annotated_gain=0.1),
            False,
            "below the required 0.6000",
        ),
        (
            report("a", 0.90, 0.50),
            report("b", 0.85, 1.0),
            GateConfig(max_test_drop=0.1),
            True,
            "meets the required 0.5000",
        ),
        (
            report("a", 0.90, None),
            report("b", 0.90, None),
            GateConfig(),
            True,
            "no annotated turns",
        ),
        (None, report("b", 0.10, 0.0), GateConfig(), True, "no model is serving yet"),
    ],
)
def test_gate_decides_and_says_why(
    current: ModelReport | None,
    candidate: ModelReport,
    config: GateConfig,
    promote: bool,
    reason: str,
) -> None:
    decision = gate(current, candidate, config)

    assert decision.promote is promote
    assert any(reason in r for r in decision.reasons), decision.reasons


def test_gate_refusal_names_every_failed_check() -> None:
    decision = gate(report("a", 0.9, 0.9), report("b", 0.5, 0.1), GateConfig())

    assert not decision.promote
    assert [r for r in decision.reasons if "fell from" in r or "below the required" in r] == [
        decision.reasons[0],
        decision.reasons[1],
    ]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"max_test_drop": -0.1}, "max_test_drop: expected a number in \\[0, 1\\]"),
        ({"min_annotated_gain": 2.0}, "min_annotated_gain: expected a number in \\[-1, 1\\]"),
        ({"test_metric": "f2"}, "test_metric: expected one of"),
    ],
)
def test_gate_config_rejects_values_out_of_range(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(GateConfigError, match=match):
        GateConfig(**kwargs)  # type: ignore[arg-type]


def test_scores_count_accuracy_and_macro_f1_over_gold_intents() -> None:
    gold = ["greet", "greet", "bye", "bye"]
    predicted = ["greet", "bye", "bye", "bye"]

    scores = score_predictions(gold, predicted)

    assert scores.n == 4
    assert scores.accuracy == 0.75
    # greet: P=1, R=0.5 -> F1 2/3; bye: P=2/3, R=1 -> F1 0.8
    assert scores.macro_f1 == pytest.approx((2 / 3 + 0.8) / 2, abs=1e-4)


def test_scores_of_an_empty_set_are_zero_with_n_zero() -> None:
    assert score_predictions([], []) == Scores(n=0, accuracy=0.0, macro_f1=0.0)


def test_comparison_table_shows_both_models_side_by_side_with_the_change() -> None:
    table = comparison_table(report("old1", 0.9, 0.25, n=4), report("new2", 0.91, 1.0, n=4))
    lines = table.splitlines()

    assert "current old1" in lines[0]
    assert "candidate new2" in lines[0]
    assert any("test split (n=100)" in line for line in lines)
    assert any("annotated turns (n=4)" in line for line in lines)
    accuracy_rows = [line for line in lines if "accuracy" in line]
    assert accuracy_rows[1].split()[1:] == ["0.2500", "1.0000", "+0.7500"]


def test_comparison_table_without_a_serving_model_shows_dashes() -> None:
    table = comparison_table(None, report("new2", 0.91, None))

    assert "current (none)" in table
    assert "-" in table.splitlines()[3].split()


# -- real retraining on the tiny model (slow) ------------------------------------------


def write_rotated_labels(tiny_data: Path, out: Path) -> Path:
    """The tiny training data with every intent's examples moved to the next intent."""
    data = read_nlu(tiny_data / "nlu")
    names = data.intents
    rotate = {name: names[(i + 1) % len(names)] for i, name in enumerate(names)}
    examples = [replace(e, intent=rotate[e.intent]) for e in data.examples]
    write_rasa_nlu(out / "nlu.yml", examples, lookups=data.lookups, synonyms=data.synonyms)
    return out


@pytest.mark.slow
def test_gate_refuses_a_candidate_trained_on_corrupted_labels_and_the_old_model_keeps_serving(
    tiny_model: Path, tiny_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from nlu.classifier import IntentClassifier

    corrupted = write_rotated_labels(tiny_data, tmp_path / "corrupted")
    registry = Registry(tmp_path / "models")
    baseline = ArtifactMeta.load(tiny_model).model_version
    live = LiveModel(registry, IntentClassifier.load, fallback=tiny_model, check_interval=0.0)
    before = live.get().parse("where is my parcel")

    code = main(
        [
            "retrain",
            "--data",
            str(corrupted),
            "--annotations",
            "--test-data",
            str(tiny_data / "test"),
            "--registry",
            str(registry.root),
            "--baseline",
            str(tiny_model),
            "--warm-start",
            "--config",
            str(write_quick_config(tmp_path)),
        ]
    )
    printed = capsys.readouterr().out
    print(printed)  # the side-by-side table, for the test log

    assert code == 1
    assert "REFUSED" in printed
    assert re.search(r"test split macro_f1 fell from [\d.]+ to [\d.]+", printed)
    assert f"current {baseline}" in printed
    current = registry.current()
    assert current is not None and current.version == baseline
    rejected = [v for v in registry.versions() if v.status == "rejected"]
    assert len(rejected) == 1 and "fell from" in rejected[0].note
    live.maybe_reload(wait=True)
    assert live.get().version == baseline
    assert live.get().parse("where is my parcel") == before
