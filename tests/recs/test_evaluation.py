from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from recs.baselines import CoOccurrence, Popularity
from recs.data import EvalCase, Interactions
from recs.evaluation import (
    evaluate,
    hit_rate,
    metrics_from_ranks,
    ndcg,
    rank_cases,
    sample_negatives,
)


@pytest.mark.parametrize(
    ("ranks", "hr", "expected_ndcg"),
    [
        ([0], 1.0, 1.0),
        ([1], 1.0, 1 / math.log2(3)),
        ([9], 1.0, 1 / math.log2(11)),
        ([10], 0.0, 0.0),
        ([0, 10, 2, 50], 0.5, (1 + 1 / math.log2(4)) / 4),
        ([], 0.0, 0.0),
    ],
)
def test_hit_rate_and_ndcg_at_10_of_hand_made_ranks(
    ranks: list[int], hr: float, expected_ndcg: float
) -> None:
    assert hit_rate(ranks) == pytest.approx(hr)
    assert ndcg(ranks) == pytest.approx(expected_ndcg)


def _fixed_scorer(row: list[float]) -> object:
    def score(histories: list[list[int]]) -> torch.Tensor:
        return torch.tensor([row] * len(histories), dtype=torch.float64)

    return score


def test_full_rank_leaves_out_history_items_but_not_the_target() -> None:
    # Items 1..6 score 60, 50, ..., 10: item 4 is 4th best, 2nd once 1 and 2 are history.
    scorer = _fixed_scorer([0, 60, 50, 40, 30, 20, 10])
    case = EvalCase(history=[1, 2, 4], target=4, seen=frozenset({1, 2, 4}))
    negatives = np.array([[3, 5, 6]])

    ranks = rank_cases(scorer, [case], negatives)  # type: ignore[arg-type]

    # History items 1, 2 are excluded; the target (also in history) is kept: 3 beats it.
    assert ranks.full.tolist() == [1]
    assert ranks.sampled.tolist() == [1]


def test_ties_are_broken_at_random_not_in_the_targets_favour() -> None:
    scorer = _fixed_scorer([0.0] + [1.0] * 20)
    cases = [EvalCase(history=[1], target=2, seen=frozenset({1, 2}))] * 2000

    ranks = rank_cases(scorer, cases, np.zeros((2000, 1), dtype=np.int64))  # type: ignore[arg-type]

    # 19 items tie with the target in the full catalogue: its rank is uniform on 0..18.
    assert set(ranks.full.tolist()) == set(range(19))
    assert metrics_from_ranks(ranks)["full_hr@10"] == pytest.approx(10 / 19, abs=0.04)


def test_sampled_negatives_avoid_the_shoppers_items_and_repeat_with_the_seed() -> None:
    cases = [EvalCase(history=[1, 2], target=3, seen=frozenset({1, 2, 3}))] * 50

    first = sample_negatives(cases, n_items=200, n=100, seed=3)
    again = sample_negatives(cases, n_items=200, n=100, seed=3)

    assert first.shape == (50, 100)
    assert np.array_equal(first, again)
    assert not set(first.ravel().tolist()) & {0, 1, 2, 3}
    assert all(len(set(row)) == 100 for row in first.tolist())


def test_sampled_negatives_pad_when_the_catalogue_is_small() -> None:
    cases = [EvalCase(history=[1], target=2, seen=frozenset({1, 2}))]

    negatives = sample_negatives(cases, n_items=5, n=100)

    assert sorted(negatives[0][:3].tolist()) == [3, 4, 5]
    assert not negatives[0][3:].any()


def test_cooccurrence_ranks_the_item_that_always_follows_first() -> None:
    train = [[1, 2, 3], [1, 2, 4], [5, 1, 2], [3, 5, 4]]

    scores = CoOccurrence.fit(train, n_items=5)([[4, 1]])

    assert int(scores[0, 1:].argmax()) + 1 == 2


def test_popularity_scores_training_counts() -> None:
    scores = Popularity.fit([[1, 2, 2], [2, 3]], n_items=3)([[1], [3]])

    assert scores.tolist() == [[0.0, 1.0, 3.0, 1.0]] * 2


def test_evaluate_baselines_on_successor_data(synthetic: Interactions) -> None:
    result = evaluate(None, synthetic)

    assert set(result) == {"shoppers", "items", "baselines"}
    cooc = result["baselines"]["cooccurrence"]
    assert cooc["full_hr@10"] == 1.0  # 12 items: everything is in the top 10 of 11 left
    assert cooc["full_ndcg@10"] > 0.95
    assert result["baselines"]["popularity"]["full_ndcg@10"] < cooc["full_ndcg@10"]
