"""The decision rule: confidence floor, schedule from the data, mean-pooled head, artifact."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from nlu.artifact import ARTIFACT_FILE, ArtifactError, ArtifactMeta
from nlu.calibration import DecisionRule, RawOutputs, decide, tune_threshold
from nlu.config import ConfigError, TrainConfig
from nlu.training import plan_steps


def _rule(**overrides: object) -> DecisionRule:
    fields: dict[str, object] = {
        "temperature": 1.0,
        "oos_method": "softmax",
        "threshold": 0.0,
        "oos_label": None,
        "threshold_source": "in-scope-quantile",
    }
    fields.update(overrides)
    return DecisionRule(**fields)  # type: ignore[arg-type]


def _meta(**overrides: object) -> ArtifactMeta:
    return ArtifactMeta(
        base_model="b",
        data_hash="0" * 64,
        labels=["a", "b"],
        decision=_rule(),
        max_length=32,
        entities={},
        validation={},
        train_config={},
        **overrides,  # type: ignore[arg-type]
    )


def test_message_below_the_confidence_floor_is_rejected_and_above_it_is_kept() -> None:
    # Two intents: a clear winner (p ~ 0.95) and a near tie (p ~ 0.52).
    logits = np.array([[3.0, 0.0], [0.08, 0.0]])
    outputs = RawOutputs(logits=logits, features=None)

    floored = decide(outputs, _rule(min_confidence=0.5 + 0.03))
    unfloored = decide(outputs, _rule(min_confidence=0.0))

    assert floored.rejected.tolist() == [False, True]
    assert unfloored.rejected.tolist() == [False, False]


def test_an_artifact_without_a_confidence_floor_or_pooling_loads_as_before(
    tmp_path: Path,
) -> None:
    _meta().save(tmp_path)
    raw = json.loads((tmp_path / ARTIFACT_FILE).read_text())
    del raw["pooling"], raw["decision"]["min_confidence"]
    (tmp_path / ARTIFACT_FILE).write_text(json.dumps(raw))

    loaded = ArtifactMeta.load(tmp_path)

    assert loaded.pooling == "cls"
    assert loaded.decision.min_confidence == 0.0


def test_an_artifact_with_an_unknown_pooling_is_refused(tmp_path: Path) -> None:
    _meta(pooling="max").save(tmp_path)

    with pytest.raises(ArtifactError, match="unknown pooling 'max'"):
        ArtifactMeta.load(tmp_path)


def test_threshold_tuning_counts_messages_the_floor_rejects_anyway() -> None:
    # 100 in-scope messages, 10 OOS; the floor already rejects the 5 lowest in-scope ones.
    rng = np.random.default_rng(0)
    scores = np.r_[rng.uniform(0.6, 1.0, 100), rng.uniform(0.0, 0.4, 10)]
    y = np.r_[np.zeros(100, dtype=int), np.ones(10, dtype=int)]
    floor = np.zeros(110, dtype=bool)
    floor[np.argsort(scores[:100])[:5]] = True

    choice = tune_threshold(scores, y, np.zeros(110, dtype=int), 1, 0.03, 0.05, also_rejected=floor)

    assert choice.in_scope_rejection == pytest.approx(0.05)
    assert choice.oos_recall == 1.0


@pytest.mark.parametrize(
    ("n_train", "epochs", "min_steps", "expected"),
    [
        (8000, None, 600, 750),  # large data: 3 passes of 250 batches
        (1350, None, 600, 600),  # 10 per intent: at least min_steps
        (64, None, 600, 100),  # tiny data: at most 50 passes of 2 batches
        (1350, 2.0, 600, 86),  # an explicit epoch count wins
    ],
)
def test_schedule_is_picked_from_the_data_unless_epochs_are_given(
    n_train: int, epochs: float | None, min_steps: int, expected: int
) -> None:
    config = TrainConfig(epochs=epochs, min_steps=min_steps, batch_size=32)

    assert plan_steps(config, n_train) == expected


@pytest.mark.parametrize(
    ("field", "value"),
    [("pooling", "max"), ("min_confidence", 1.0), ("min_steps", 0)],
)
def test_new_settings_with_bad_values_raise_error_naming_them(field: str, value: object) -> None:
    with pytest.raises(ConfigError, match=rf"{field}: expected .* found"):
        TrainConfig(**{field: value})  # type: ignore[arg-type]


@pytest.mark.slow
def test_centroid_head_classifies_training_texts_before_any_fine_tuning() -> None:
    from nlu.calibration import unit_rows
    from nlu.classifier import forward
    from nlu.training import (
        LabelledTexts,
        build_model,
        init_head_from_centroids,
        prepare_data,
    )

    texts = [
        "where is my parcel",
        "track my package",
        "has my order shipped",
        "where's my delivery",
        "I want my money back",
        "refund me please",
        "can I get a refund",
        "return this for a refund",
        "hello there",
        "hi!",
        "good morning",
        "hey",
    ]
    labels = ["track"] * 4 + ["refund"] * 4 + ["greet"] * 4
    data = prepare_data(LabelledTexts(texts, labels), validation_fraction=0.25, seed=0)
    config = TrainConfig(num_hidden_layers=2, max_length=32)
    model, tokenizer = build_model(config, data.labels)
    init_head_from_centroids(model, tokenizer, data, config.max_length)
    model.eval()

    out = forward(model, tokenizer, texts, max_length=32, features=True, pooling="mean")
    predicted = [data.labels[i] for i in out.logits.argmax(axis=1)]

    assert out.features is not None and unit_rows(out.features).shape == (12, 384)
    assert sum(p == y for p, y in zip(predicted, labels, strict=True)) >= 10


@pytest.mark.slow
def test_trained_model_records_mean_pooling_the_floor_and_its_steps(tiny_model: Path) -> None:
    meta = ArtifactMeta.load(tiny_model)

    assert meta.pooling == "mean"
    assert meta.decision.min_confidence == 0.5
    assert meta.train_steps is not None and meta.train_steps > 0


@pytest.mark.slow
def test_small_data_is_refit_on_everything_keeping_the_rule_chosen_on_validation(
    tiny_data_no_oos: Path, tmp_path: Path
) -> None:
    from nlu.training import train

    config = TrainConfig(
        data=[str(tiny_data_no_oos)],
        output_dir=str(tmp_path / "m"),
        num_hidden_layers=1,
        max_steps=4,
        batch_size=8,
        max_length=32,
        validation_fraction=0.2,
        num_threads=1,
        device="cpu",
    )

    meta = ArtifactMeta.load(train(config))

    assert meta.refit is True
    assert meta.decision.threshold_source == "in-scope-quantile"
    assert meta.decision.stats_file is not None


def test_without_oos_examples_the_distance_threshold_spends_only_what_the_floor_leaves() -> None:
    scores = np.linspace(0.0, 1.0, 100)
    y = np.zeros(100, dtype=int)
    floor = np.zeros(100, dtype=bool)
    floor[50:52] = True  # the floor already rejects 2 of 100

    spent = tune_threshold(scores, y, y, None, 0.03, also_rejected=floor)
    used_up = tune_threshold(scores, y, y, None, 0.02, also_rejected=floor)

    assert spent.in_scope_rejection == pytest.approx(0.03, abs=0.011)
    assert used_up.in_scope_rejection == pytest.approx(0.02)
    assert used_up.threshold < scores.min()
