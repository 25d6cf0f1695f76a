from __future__ import annotations

import json
from pathlib import Path

import pytest

from recs.data import Interactions
from shopintent.cli import main

from .conftest import write_interactions

KEYS = {"hr@10", "ndcg@10", "full_hr@10", "full_ndcg@10"}


def test_evaluate_json_has_the_model_and_baseline_metrics(
    trained_dir: Path, synthetic: Interactions, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = write_interactions(tmp_path / "log.txt", synthetic.sequences)

    code = main(["recs", "evaluate", "--data", str(data), "--model", str(trained_dir), "--json"])

    assert code == 0
    result = json.loads(capsys.readouterr().out)
    assert set(result) >= KEYS
    assert set(result["baselines"]) == {"popularity", "cooccurrence"}
    assert all(set(m) == KEYS for m in result["baselines"].values())
    assert result["full_ndcg@10"] > result["baselines"]["popularity"]["full_ndcg@10"]


def test_train_then_evaluate_from_a_file(
    synthetic: Interactions, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = write_interactions(tmp_path / "log.txt", synthetic.sequences)
    out = tmp_path / "model"

    code = main(
        [
            "recs",
            "train",
            "--data",
            str(data),
            "--output",
            str(out),
            "--epochs",
            "2",
            "--seed",
            "3",
            "--hidden",
            "8",
            "--no-progress",
            "--num-threads",
            "1",
        ]
    )

    assert code == 0
    assert f"saved {out}" in capsys.readouterr().out
    assert json.loads((out / "recs.json").read_text())["config"]["epochs"] == 2

    assert main(["recs", "evaluate", "--data", str(data), "--model", str(out)]) == 0
    table = capsys.readouterr().out
    assert "sasrec" in table and "popularity" in table and "cooccurrence" in table


def test_train_from_a_missing_file_fails_cleanly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        ["recs", "train", "--data", str(tmp_path / "nope.txt"), "--output", str(tmp_path / "m")]
    )

    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: interactions file") and "Traceback" not in err
    assert not (tmp_path / "m").exists()


def test_train_on_too_little_data_fails_cleanly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "tiny.txt"
    data.write_text("a 1\na 2\nb 2\n", encoding="utf-8")

    code = main(["recs", "train", "--data", str(data), "--output", str(tmp_path / "m")])

    assert code == 2
    assert "expected at least 2 items and 1 shopper with 3 or more" in capsys.readouterr().err


def test_evaluate_without_a_model_says_how_to_train_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["recs", "evaluate", "--data", "x.txt", "--model", str(tmp_path / "none")])

    assert code == 2
    assert "shopintent recs train" in capsys.readouterr().err
