"""The standard next-item protocol: leave-last-out, HR@10 and NDCG@10.

Every method is a `Scorer`: given histories of item indices it returns a score for
every index (`[batch, n_items + 1]`, column 0 is padding and never counts). For each
held-out item two ranks are computed:

- sampled: among the target and 100 negatives drawn uniformly (without replacement,
  fixed seed) from the items the shopper never interacted with; the same negatives
  for every method;
- full: among the whole catalogue, leaving out the shopper's history items (except the
  target itself).

A tie is broken at random (seeded): the target lands uniformly among the items with
its score, so a method with many equal scores (popularity) is neither helped nor hurt.
HR@k is the share of targets ranked in the top k and NDCG@k averages `1/log2(rank+2)`
over those (0-based rank; one relevant item, so the ideal DCG is 1).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from recs.data import EvalCase, Interactions, encode, leave_last_out

if TYPE_CHECKING:
    from recs.recommender import Recommender

Scorer = Callable[[list[list[int]]], torch.Tensor]
"""Scores `[len(histories), n_items + 1]` for histories of item indices (higher is better).

The caller owns the returned tensor and may change it in place."""

K = 10
DEFAULT_NEGATIVES = 100
DEFAULT_EVAL_SEED = 20180923
BASELINES = ("popularity", "cooccurrence")


@dataclass(frozen=True)
class Ranks:
    """0-based ranks of each case's target: among sampled negatives and in the catalogue."""

    sampled: np.ndarray
    full: np.ndarray


def hit_rate(ranks: Sequence[int] | np.ndarray, k: int = K) -> float:
    """Share of ranks (0-based) below `k`.

    >>> hit_rate([0, 3, 12, 9])
    0.75
    """
    arr = np.asarray(ranks)
    return float((arr < k).mean()) if arr.size else 0.0


def ndcg(ranks: Sequence[int] | np.ndarray, k: int = K) -> float:
    """Mean NDCG@k of one relevant item per case, from its 0-based rank.

    >>> round(ndcg([0, 1, 10]), 4)  # (1 + 1/log2(3) + 0) / 3
    0.5436
    """
    arr = np.asarray(ranks, dtype=np.float64)
    if not arr.size:
        return 0.0
    gains = np.where(arr < k, 1.0 / np.log2(arr + 2.0), 0.0)
    return float(gains.mean())


def metrics_from_ranks(ranks: Ranks, k: int = K) -> dict[str, float]:
    """`hr@k`, `ndcg@k` (sampled) and `full_hr@k`, `full_ndcg@k` (whole catalogue)."""
    return {
        f"hr@{k}": hit_rate(ranks.sampled, k),
        f"ndcg@{k}": ndcg(ranks.sampled, k),
        f"full_hr@{k}": hit_rate(ranks.full, k),
        f"full_ndcg@{k}": ndcg(ranks.full, k),
    }


def sample_negatives(
    cases: Sequence[EvalCase],
    n_items: int,
    n: int = DEFAULT_NEGATIVES,
    seed: int = DEFAULT_EVAL_SEED,
) -> np.ndarray:
    """Draw `n` items per case uniformly from those the shopper never interacted with.

    Returns:
        `[len(cases), n]` item indices; a row has trailing zeros (padding, which never
        outranks a target) when the catalogue has fewer than `n` unseen items.
    """
    rng = np.random.default_rng(seed)
    out = np.zeros((len(cases), n), dtype=np.int64)
    for row, case in enumerate(cases):
        want = min(n, n_items - len(case.seen))
        if want <= 0:
            continue
        if want * 4 > n_items - len(case.seen):
            pool = np.setdiff1d(np.arange(1, n_items + 1), np.fromiter(case.seen, np.int64))
            out[row, :want] = rng.choice(pool, size=want, replace=False)
            continue
        picked: dict[int, None] = {}
        while len(picked) < want:
            for item in rng.integers(1, n_items + 1, size=2 * want).tolist():
                if item not in case.seen and item not in picked:
                    picked[item] = None
                    if len(picked) == want:
                        break
        out[row, :want] = list(picked)
    return out


def rank_cases(
    scorer: Scorer,
    cases: Sequence[EvalCase],
    negatives: np.ndarray,
    seed: int = DEFAULT_EVAL_SEED,
    batch_size: int = 256,
) -> Ranks:
    """Rank each case's target with `scorer`, sampled and full (see the module docstring)."""
    generator = torch.Generator().manual_seed(seed)
    # Cases of similar history length share a batch (less padding for the model).
    order = np.argsort([len(c.history) for c in cases], kind="stable")
    sampled = np.zeros(len(cases), dtype=np.int64)
    full = np.zeros(len(cases), dtype=np.int64)
    for start in range(0, len(cases), batch_size):
        rows = order[start : start + batch_size]
        sampled[rows], full[rows] = _rank_batch(
            scorer, [cases[r] for r in rows], negatives[rows], generator
        )
    return Ranks(sampled=sampled, full=full)


@torch.inference_mode()
def _rank_batch(
    scorer: Scorer, batch: Sequence[EvalCase], negatives: np.ndarray, generator: torch.Generator
) -> tuple[np.ndarray, np.ndarray]:
    scores = scorer([c.history for c in batch])
    scores[:, 0] = -math.inf
    targets = torch.tensor([c.target for c in batch])
    rows = torch.arange(len(batch))
    target_scores = scores[rows, targets].unsqueeze(1)

    neg = torch.from_numpy(negatives)
    neg_scores = scores.gather(1, neg)
    greater = _count(neg_scores > target_scores)
    equal = _count((neg_scores == target_scores) & (neg > 0))
    sampled = _break_ties(greater, equal, generator)

    hist_rows = [r for r, c in enumerate(batch) for _ in c.history]
    hist_items = [i for c in batch for i in c.history]
    if hist_items:
        scores[torch.tensor(hist_rows), torch.tensor(hist_items)] = -math.inf
    scores[rows, targets] = target_scores.squeeze(1)
    greater = _count(scores > target_scores)
    equal = _count(scores == target_scores) - 1
    return sampled, _break_ties(greater, equal, generator)


def _count(mask: torch.Tensor) -> torch.Tensor:
    # Summing bools as uint8 into int32 is ~7x faster than the default int64 sum.
    return mask.view(torch.uint8).sum(1, dtype=torch.int32).long()


def _break_ties(
    greater: torch.Tensor, equal: torch.Tensor, generator: torch.Generator
) -> np.ndarray:
    u = torch.rand(greater.shape, generator=generator, dtype=torch.float64)
    return (greater + (u * (equal + 1)).floor().long().clamp(max=equal)).numpy()


def evaluate_scorer(
    scorer: Scorer,
    cases: Sequence[EvalCase],
    n_items: int,
    negatives: np.ndarray | None = None,
    seed: int = DEFAULT_EVAL_SEED,
) -> dict[str, float]:
    """HR@10 and NDCG@10, sampled and full, of one scorer on held-out cases."""
    if negatives is None:
        negatives = sample_negatives(cases, n_items, seed=seed)
    return metrics_from_ranks(rank_cases(scorer, cases, negatives, seed=seed))


def evaluate(
    recommender: Recommender | None,
    interactions: Interactions,
    negatives: int = DEFAULT_NEGATIVES,
    seed: int = DEFAULT_EVAL_SEED,
    baselines: Sequence[str] = BASELINES,
) -> dict[str, Any]:
    """Score a trained recommender and the baselines on the test items of `interactions`.

    The split is leave-last-out; the baselines are fitted on its training part; the
    model reads each shopper's history and ranks the last item. Items the model never
    saw score lowest.

    Args:
        recommender: the model (None: baselines only).
        interactions: the data to split (the model's own training data for honest
            numbers: it never trained on the validation and test items).
        negatives: sampled negatives per shopper.
        seed: seed of the negatives and of tie-breaking.
        baselines: which baselines to score, of `BASELINES`.

    Returns:
        `{"hr@10", "ndcg@10", "full_hr@10", "full_ndcg@10", "shoppers", "items",
        "baselines": {name: {the four metrics}}}` (the model's keys only with a model).

    Raises:
        TooLittleDataError: no shopper has 3 or more interactions.
    """
    from recs.baselines import CoOccurrence, Popularity
    from recs.data import check_enough

    items, seqs = encode(interactions)
    split = leave_last_out(seqs)
    check_enough(split, items.n_items, interactions.source or "interactions")
    neg = sample_negatives(split.test, items.n_items, negatives, seed)
    result: dict[str, Any] = {}
    if recommender is not None:
        result.update(
            metrics_from_ranks(rank_cases(recommender.scorer(items.tokens), split.test, neg, seed))
        )
    result["shoppers"] = len(split.test)
    result["items"] = items.n_items
    fitted: dict[str, Scorer] = {}
    for name in baselines:
        if name == "popularity":
            fitted[name] = Popularity.fit(split.train, items.n_items)
        elif name == "cooccurrence":
            fitted[name] = CoOccurrence.fit(split.train, items.n_items)
        else:
            raise ValueError(f"baselines: expected names of {BASELINES}, found {name!r}")
    result["baselines"] = {
        name: metrics_from_ranks(rank_cases(scorer, split.test, neg, seed))
        for name, scorer in fitted.items()
    }
    return result


def format_table(result: dict[str, Any]) -> str:
    """A plain-text table of `evaluate`'s result: one row per method."""
    keys = [f"hr@{K}", f"ndcg@{K}", f"full_hr@{K}", f"full_ndcg@{K}"]
    header = ["method", "HR@10", "NDCG@10", "full HR@10", "full NDCG@10"]
    rows: list[list[str]] = []
    if keys[0] in result:
        rows.append(["sasrec", *(f"{result[k]:.4f}" for k in keys)])
    for name, metrics in result.get("baselines", {}).items():
        rows.append([name, *(f"{metrics[k]:.4f}" for k in keys)])
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = [
        "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(r, widths, strict=True))
        )
        for r in [header, *rows]
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    lines.append(
        f"{result.get('shoppers', 0)} test shoppers, {result.get('items', 0)} items; "
        "HR/NDCG among 100 sampled negatives, full_* over the whole catalogue"
    )
    return "\n".join(lines)
