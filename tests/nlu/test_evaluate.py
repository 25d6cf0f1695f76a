"""Evaluation: metrics, report files in `rasa test nlu`'s shape, plots and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from nlu.evaluation import SUMMARY_KEYS, evaluate, expected_calibration_error, intent_report
from shopintent.cli import main

PNGS = ("intent_confusion_matrix.png", "intent_histogram.png", "reliability_diagram.png")


@pytest.mark.parametrize(
    ("confidence", "correct", "ece"),
    [
        ([1.0, 1.0, 1.0, 1.0], [True, True, True, True], 0.0),
        ([0.9, 0.9, 0.9, 0.9], [True, False, True, False], 0.4),
        ([0.25, 0.25, 0.75, 0.75], [False, False, True, True], 0.25),
        ([], [], 0.0),
    ],
)
def test_expected_calibration_error_of_known_cases(
    confidence: list[float], correct: list[bool], ece: float
) -> None:
    assert expected_calibration_error(np.array(confidence), np.array(correct)) == pytest.approx(ece)


def test_intent_report_has_rasa_keys_and_confusions() -> None:
    y_true = ["a", "a", "a", "b", "b", "oos"]
    y_pred = ["a", "a", "b", "b", "nlu_fallback", "oos"]

    report = intent_report(y_true, y_pred, ["a", "b", "oos"])

    assert set(report["a"]) == {"precision", "recall", "f1-score", "support", "confused_with"}
    assert report["a"]["confused_with"] == {"b": 1}
    assert report["b"]["confused_with"] == {"nlu_fallback": 1}
    assert report["a"]["support"] == 3
    assert report["accuracy"] == pytest.approx(4 / 6)
    assert {"macro avg", "weighted avg"} <= set(report)
    assert "nlu_fallback" not in report


@pytest.mark.slow
def test_evaluate_writes_reports_and_plots(
    tiny_model: Path, tiny_data: Path, tmp_path: Path
) -> None:
    result = evaluate(tiny_model, tiny_data, out_dir=tmp_path)

    assert set(SUMMARY_KEYS) <= set(result.summary)
    assert result.summary["n"] == 12  # the test/ split, not the training examples
    for key in SUMMARY_KEYS[1:]:
        value = result.summary[key]
        assert value is None or 0.0 <= float(value) <= 1.0
    report = json.loads((tmp_path / "intent_report.json").read_text())
    assert report["out_of_scope"]["support"] == 2
    assert {"accuracy", "macro avg", "weighted avg"} <= set(report)
    errors = json.loads((tmp_path / "intent_errors.json").read_text())
    assert len(errors) == round(12 * (1 - result.summary["accuracy"]))  # type: ignore[operator]
    for error in errors:
        assert set(error) == {"text", "intent", "intent_prediction"}
        assert set(error["intent_prediction"]) == {"name", "confidence"}
    for png in PNGS:
        assert (tmp_path / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.slow
def test_evaluate_cli_json_prints_one_summary_object(
    tiny_model: Path, tiny_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["evaluate", "--model", str(tiny_model), "--data", str(tiny_data / "test")]
    code = main([*argv, "--out", str(tmp_path), "--json", "--no-plots"])

    summary = json.loads(capsys.readouterr().out)
    assert code == 0
    assert set(SUMMARY_KEYS) <= set(summary)
    assert summary["n"] == 12


@pytest.mark.slow
def test_evaluate_cli_prints_summary_table(
    tiny_model: Path, tiny_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [
        "evaluate",
        "--model",
        str(tiny_model),
        "--data",
        str(tiny_data),
        "--out",
        str(tmp_path),
    ]

    code = main([*argv, "--no-plots"])

    out = capsys.readouterr().out
    assert code == 0
    for title in ("in-scope accuracy", "OOS recall", "OOS precision", "macro F1", "ECE"):
        assert title in out


def test_evaluate_cli_with_missing_data_exits_2(
    tiny_model_path_missing: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["evaluate", "--model", str(tiny_model_path_missing), "--data", "nowhere/at/all"])

    assert code == 2
    assert "error:" in capsys.readouterr().err


@pytest.fixture
def tiny_model_path_missing(tmp_path: Path) -> Path:
    return tmp_path / "no-model"
