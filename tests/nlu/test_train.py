"""Training: settings validation, splitting, calibration, thresholds, artifact, CLI errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from nlu.artifact import ArtifactMeta
from nlu.calibration import OosStats, fit_temperature, tune_threshold
from nlu.config import ConfigError, TrainConfig
from nlu.training import (
    LabelledTexts,
    TrainDataError,
    prepare_data,
    stratified_split,
)
from shopintent.cli import main


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("epochs", 0),
        ("learning_rate", 2.0),
        ("batch_size", 0),
        ("max_length", 4),
        ("validation_fraction", 0.7),
        ("target_in_scope_rejection", 0.0),
        ("oos_method", "magic"),
        ("device", "tpu"),
        ("oos_label", " "),
        ("num_hidden_layers", 0),
        ("epochs", float("nan")),
    ],
)
def test_config_with_bad_value_raises_error_naming_it(field: str, value: Any) -> None:
    with pytest.raises(ConfigError, match=rf"{field}: expected .* found"):
        TrainConfig(**{field: value})


def test_config_json_file_round_trips_and_flags_override(tmp_path: Path) -> None:
    path = tmp_path / "train.json"
    path.write_text(json.dumps({"epochs": 2, "seed": 5, "data": "some/dir"}))

    config = TrainConfig.from_json(path, seed=9, epochs=None)

    assert (config.epochs, config.seed, config.data) == (2.0, 9, ["some/dir"])
    assert TrainConfig(**config.to_dict()) == config


def test_config_json_with_unknown_setting_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "train.json"
    path.write_text(json.dumps({"epoch": 2}))

    with pytest.raises(ConfigError, match=r"unknown settings \['epoch'\]"):
        TrainConfig.from_json(path)


def test_stratified_split_holds_out_every_intent_and_is_seeded() -> None:
    labels = ["a"] * 20 + ["b"] * 10 + ["c"] * 3

    train, val = stratified_split(labels, 0.2, seed=1)

    assert sorted(train + val) == list(range(len(labels)))
    assert sorted(labels[i] for i in val) == ["a"] * 4 + ["b"] * 2
    assert stratified_split(labels, 0.2, seed=1) == (train, val)
    assert stratified_split(labels, 0.2, seed=2) != (train, val)


def test_prepare_data_with_one_intent_raises_train_data_error() -> None:
    with pytest.raises(TrainDataError, match=r"expected at least 2 intents.*found 1"):
        prepare_data(
            LabelledTexts(["hi", "hello"], ["greet", "greet"]), validation_fraction=0.1, seed=0
        )


def test_fit_temperature_recovers_the_temperature_of_overconfident_logits() -> None:
    rng = np.random.default_rng(0)
    n, k = 4000, 5
    true_logits = rng.normal(size=(n, k)) * 2
    probs = np.exp(true_logits) / np.exp(true_logits).sum(1, keepdims=True)
    labels = np.array([rng.choice(k, p=p) for p in probs])

    temperature = fit_temperature(true_logits * 3.0, labels)

    assert temperature == pytest.approx(3.0, rel=0.1)


def test_threshold_without_oos_examples_rejects_the_target_share_of_in_scope() -> None:
    rng = np.random.default_rng(0)
    scores = rng.uniform(size=1000)
    y = rng.integers(0, 4, size=1000)

    choice = tune_threshold(scores, y, y, oos_index=None, target_rejection=0.05)

    assert choice.source == "in-scope-quantile"
    assert choice.in_scope_rejection == pytest.approx(0.05, abs=0.01)
    assert choice.oos_recall is None


def test_threshold_with_oos_examples_separates_them() -> None:
    # In-scope messages score 0.6-1.0, OOS ones 0.0-0.5: the best threshold lies between.
    rng = np.random.default_rng(0)
    scores = np.concatenate([rng.uniform(0.6, 1.0, 300), rng.uniform(0.0, 0.5, 50)])
    y = np.concatenate([rng.integers(0, 3, 300), np.full(50, 3)])
    top = np.where(y == 3, 0, y)

    choice = tune_threshold(scores, y, top, oos_index=3, target_rejection=0.05)

    assert choice.source == "validation-oos"
    assert 0.5 <= choice.threshold <= 0.6
    assert (choice.in_scope_accuracy, choice.oos_recall) == (1.0, 1.0)


def test_threshold_tuned_on_few_oos_examples_rejects_at_most_the_cap() -> None:
    # Two OOS examples score like in-scope ones; catching them would reject half the in-scope.
    scores = np.concatenate([np.linspace(0.0, 1.0, 100), [0.5, 0.55]])
    y = np.concatenate([np.zeros(100, dtype=int), [1, 1]])

    choice = tune_threshold(scores, y, np.zeros(102, dtype=int), 1, 0.03, max_rejection=0.05)

    assert choice.in_scope_rejection <= 0.05


def test_mahalanobis_distance_is_small_near_a_class_and_large_far_away() -> None:
    rng = np.random.default_rng(0)
    features = np.concatenate([rng.normal(0, 1, (200, 8)), rng.normal(5, 1, (200, 8))])
    labels = np.array([0] * 200 + [1] * 200)
    stats = OosStats.fit(features, labels)

    near, far = stats.distances(np.array([[0.0] * 8, [20.0] * 8]))

    assert near < 3 < 10 < far


def test_knn_similarity_is_high_near_training_examples_and_survives_save_load(
    tmp_path: Path,
) -> None:
    rng = np.random.default_rng(0)
    features = rng.normal(0, 1, (50, 8)) + np.array([5.0] + [0.0] * 7)
    stats = OosStats.fit(features, np.zeros(50, dtype=int)).with_bank(features)
    stats.save(tmp_path / "stats.npz")

    loaded = OosStats.load(tmp_path / "stats.npz")
    near, far = loaded.knn_similarity(np.array([[5.0] + [0.0] * 7, [-5.0] + [0.0] * 7]))

    assert loaded.bank is not None and loaded.bank.shape == (50, 8)
    assert near > 0.8 > 0.0 > far


@pytest.mark.slow
def test_trained_artifact_describes_itself(tiny_model: Path) -> None:
    meta = ArtifactMeta.load(tiny_model)
    config = json.loads((tiny_model / "config.json").read_text())

    assert sorted(config["id2label"].values()) == meta.labels
    assert meta.decision.oos_label == "out_of_scope"
    assert meta.decision.threshold_source == "validation-oos"
    assert meta.decision.temperature > 0
    assert meta.decision.stats_file and (tiny_model / meta.decision.stats_file).is_file()
    assert len(meta.data_hash) == 64 and meta.project_version
    assert {"in_scope_accuracy", "oos_recall", "ece"} <= set(meta.validation)
    assert "product" in meta.entities["lookups"]
    assert (tiny_model / "tokenizer.json").is_file()


@pytest.mark.slow
def test_data_without_oos_examples_still_gets_a_rejection_threshold(
    tiny_model_no_oos: Path,
) -> None:
    from nlu.classifier import IntentClassifier

    meta = ArtifactMeta.load(tiny_model_no_oos)
    clf = IntentClassifier.load(tiny_model_no_oos)

    assert meta.decision.oos_label is None
    assert meta.decision.threshold_source == "in-scope-quantile"
    assert 0 < meta.decision.threshold <= 1  # a softmax score: saturates at 1 on tiny data
    assert "out_of_scope" not in clf.labels
    assert clf.parse("   ")["intent"]["name"] == "nlu_fallback"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--data", "does/not/exist"], "does not exist"),
        (["--data", "{tables}/no_text.csv"], "expected a text column"),
        (["--data", "{one_label}"], "expected at least 2 intents"),
        (["--epochs", "-1"], "epochs: expected a positive number"),
        (["--config", "{missing_json}"], "not found"),
    ],
)
def test_train_cli_with_bad_input_exits_2_with_message(
    args: list[str],
    message: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    one_label = tmp_path / "one.yml"
    one_label.write_text(
        'version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    - hi\n    - hello\n'
    )
    tables = Path(__file__).parent / "fixtures" / "tables"
    values = {"tables": tables, "one_label": one_label, "missing_json": tmp_path / "nope.json"}
    argv = ["train", "--output", str(tmp_path / "model"), *(a.format(**values) for a in args)]

    code = main(argv)

    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ")
    assert message in err
    assert "Traceback" not in err


@pytest.mark.parametrize("command", [["train"], ["predict"], ["evaluate"]])
def test_every_model_command_has_help(
    command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([*command, "--help"])

    assert exit_info.value.code == 0
    assert "usage: shopintent" in capsys.readouterr().out


def test_half_precision_base_model_is_fine_tuned_in_float32(tmp_path: Path) -> None:
    import shutil

    import torch
    from safetensors.torch import load_file, save_file

    from nlu.training import build_model, resolve_base_model

    base = Path(resolve_base_model(None))
    half = tmp_path / "fp16-base"
    shutil.copytree(base, half, ignore=shutil.ignore_patterns("model.safetensors"))
    weights = load_file(str(base / "model.safetensors"))
    save_file(
        {k: v.half().contiguous() for k, v in weights.items()}, str(half / "model.safetensors")
    )

    config = TrainConfig(base_model=str(half), num_hidden_layers=1, device="cpu")
    model, _ = build_model(config, ["a", "b"])

    assert {p.dtype for p in model.parameters()} == {torch.float32}


def test_public_train_and_evaluate_stay_functions_after_their_modules_load() -> None:
    import importlib

    importlib.import_module("nlu.training")
    importlib.import_module("nlu.evaluation")
    from nlu import evaluate, train

    assert callable(train) and train.__name__ == "train"
    assert callable(evaluate) and evaluate.__name__ == "evaluate"
