from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import torch

from recs.artifact import META_FILE, WEIGHTS_FILE, RecsMeta
from recs.data import Interactions, encode, leave_last_out
from recs.errors import ArtifactError, NotAModelError
from recs.model import SASRec, full_softmax_loss
from recs.recommender import Recommender
from recs.training import fit, train

from .conftest import N_ITEMS, successor, tiny_config


def test_the_model_ranks_the_item_that_always_follows_first(trained_dir: Path) -> None:
    rec = Recommender.load(trained_dir)

    before = {successor(i): i for i in range(N_ITEMS)}
    for item in range(N_ITEMS):
        history = [f"item{before[item]}", f"item{item}"]
        top = rec.recommend(history, k=3, exclude=set())
        assert top[0][0] == f"item{successor(item)}", (history, top)


def test_the_saved_metrics_show_the_successor_was_learnt(trained_dir: Path) -> None:
    meta = RecsMeta.load(trained_dir)

    assert meta.metrics["test"]["full_ndcg@10"] > 0.95
    assert meta.metrics["validation"]["hr@10"] == 1.0
    assert 1 <= meta.best_epoch <= meta.epochs_run


def test_the_artifact_describes_itself(trained_dir: Path, synthetic: Interactions) -> None:
    raw = json.loads((trained_dir / META_FILE).read_text(encoding="utf-8"))

    assert (trained_dir / WEIGHTS_FILE).is_file()
    assert set(raw) >= {
        "config",
        "item_index",
        "n_shoppers",
        "metrics",
        "data_hash",
        "created",
        "version",
        "format_version",
        "model_version",
    }
    assert sorted(raw["item_index"].values()) == list(range(1, N_ITEMS + 1))
    assert raw["n_shoppers"] == synthetic.n_shoppers
    assert raw["data_hash"] == synthetic.data_hash()
    assert raw["config"]["hidden"] == 16
    assert not [p for p in trained_dir.parent.iterdir() if p.name.startswith(".")]


def test_recommend_skips_unknown_items_and_returns_nothing_without_a_known_one(
    trained_dir: Path,
) -> None:
    rec = Recommender.load(trained_dir)

    assert rec.recommend([]) == []
    assert rec.recommend(["never-seen", "nor-this"]) == []
    with_unknown = rec.recommend(["item3", "never-seen"], k=2, exclude=set())
    assert with_unknown == rec.recommend(["item3"], k=2, exclude=set())


def test_recommend_excludes_history_by_default_and_honours_allowed(trained_dir: Path) -> None:
    rec = Recommender.load(trained_dir)
    history = ["item0", "item3"]

    default = [item for item, _ in rec.recommend(history, k=N_ITEMS)]
    allowed = rec.recommend(history, k=5, allowed={"item1", "item2", "unknown"})
    excluded = rec.recommend(history, k=N_ITEMS, exclude={"item5"})

    assert len(default) == N_ITEMS - 2 and not set(history) & set(default)
    assert [item for item, _ in allowed] in (["item1", "item2"], ["item2", "item1"])
    assert "item5" not in {item for item, _ in excluded} and "item0" in {i for i, _ in excluded}
    scores = [score for _, score in rec.recommend(history, k=N_ITEMS)]
    assert scores == sorted(scores, reverse=True) and 0 < sum(scores) <= 1


def test_recommend_is_fast_for_one_shopper(trained_dir: Path) -> None:
    rec = Recommender.load(trained_dir)
    history = [f"item{i}" for i in range(N_ITEMS)] * 5
    rec.recommend(history)

    started = time.perf_counter()
    for _ in range(20):
        rec.recommend(history, k=10)

    assert (time.perf_counter() - started) / 20 < 0.010


def test_training_is_deterministic_for_a_seed(synthetic: Interactions) -> None:
    items, seqs = encode(synthetic)
    split = leave_last_out(seqs)
    config = tiny_config(epochs=2, patience=2)

    first = fit(config, split, items.n_items).model.state_dict()
    second = fit(config, split, items.n_items).model.state_dict()

    assert all(torch.equal(first[k], second[k]) for k in first)


def test_a_position_sees_only_earlier_items() -> None:
    torch.manual_seed(0)
    model = SASRec(n_items=10, hidden=8, blocks=2, heads=2, dropout=0.0, max_len=6).eval()
    seqs = torch.tensor([[0, 1, 2, 3, 4, 5], [0, 1, 2, 3, 9, 7]])

    states = model.encode(seqs)

    assert torch.allclose(states[0, :4], states[1, :4], atol=1e-6)
    assert not torch.allclose(states[0, 4], states[1, 4])


def test_padding_does_not_change_a_sequences_state() -> None:
    torch.manual_seed(0)
    model = SASRec(n_items=10, hidden=8, blocks=2, heads=1, dropout=0.0, max_len=6).eval()

    short = model.last_state(torch.tensor([[3, 4, 5]]))
    padded = model.last_state(torch.tensor([[0, 0, 3, 4, 5]]))

    assert torch.allclose(short, padded, atol=1e-6)


def test_retraining_replaces_the_artifact_atomically(
    synthetic: Interactions, tmp_path: Path
) -> None:
    out = tmp_path / "model"
    train(synthetic, tiny_config(epochs=1), out)
    first = RecsMeta.load(out).created
    (out / "stale.txt").write_text("from the old model", encoding="utf-8")

    train(synthetic, tiny_config(epochs=1, seed=5), out)

    assert not (out / "stale.txt").exists()
    assert RecsMeta.load(out).config["seed"] == 5 and RecsMeta.load(out).created >= first
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


def test_loading_a_folder_that_is_not_a_model_says_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(NotAModelError, match="train one with `shopintent recs train"):
        Recommender.load(tmp_path / "missing")
    with pytest.raises(NotAModelError, match=r"found no recs.json or model.pt"):
        Recommender.load(tmp_path)


def test_a_damaged_artifact_is_reported(trained_dir: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / WEIGHTS_FILE).write_bytes((trained_dir / WEIGHTS_FILE).read_bytes())
    (broken / META_FILE).write_text("{not json", encoding="utf-8")

    with pytest.raises(ArtifactError, match="is damaged"):
        Recommender.load(broken)


def test_the_blocked_loss_equals_full_cross_entropy_with_its_gradients() -> None:
    torch.manual_seed(0)
    states = torch.randn(150, 8, dtype=torch.float64, requires_grad=True)
    weight = torch.randn(40, 8, dtype=torch.float64, requires_grad=True)
    targets = torch.randint(0, 40, (150,))

    expected = torch.nn.functional.cross_entropy(states @ weight.T, targets)
    expected_grads = torch.autograd.grad(expected, (states, weight))
    loss = full_softmax_loss(states, weight, targets, chunk=64)
    grads = torch.autograd.grad(loss, (states, weight))

    assert torch.allclose(loss, expected)
    assert all(torch.allclose(g, e) for g, e in zip(grads, expected_grads, strict=True))
