"""Training: SASRec with full softmax cross-entropy over the catalogue at every position.

The pipeline is `load_interactions` -> `encode` -> `leave_last_out` -> `fit` ->
`save_artifact`; `train` runs all of it. Every position of every training sequence
predicts the next item against the whole catalogue (Klenitskiy & Vasilev 2023: much
stronger than SASRec's one sampled negative). Sequences are grouped by length into
batches of about `batch_positions` predicted positions, so little time goes to
padding. After each epoch the validation items are ranked; the best epoch's weights
are kept and training stops after `patience` epochs without improvement.
"""

from __future__ import annotations

import copy
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from recs.artifact import RecsMeta, save_artifact
from recs.config import DEFAULT_MODEL_DIR, RecsConfig
from recs.data import Interactions, Split, check_enough, encode, leave_last_out
from recs.evaluation import DEFAULT_EVAL_SEED, evaluate_scorer, sample_negatives
from recs.model import SASRec
from recs.recommender import build_model, model_scorer


@dataclass
class FitResult:
    """What `fit` returns.

    Attributes:
        model: the network with the best epoch's weights, in eval mode.
        validation: that epoch's validation metrics.
        best_epoch: 1-based epoch number of the kept weights.
        epochs_run: epochs trained.
        seconds: wall time.
        history: per-epoch `{"epoch", "loss", "seconds", metrics...}`.
    """

    model: SASRec
    validation: dict[str, float]
    best_epoch: int
    epochs_run: int
    seconds: float
    history: list[dict[str, float]] = field(default_factory=list)


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def training_examples(train: list[list[int]], max_len: int) -> list[list[int]]:
    """The last `max_len + 1` items of each training sequence with at least 2 items."""
    return [seq[-(max_len + 1) :] for seq in train if len(seq) >= 2]


def make_batches(
    examples: list[list[int]], batch_positions: int, rng: np.random.Generator
) -> list[list[int]]:
    """Group examples of similar length into batches of about `batch_positions`
    positions (padded length x rows), in random order; returns example indices."""
    order = rng.permutation(len(examples))
    order = order[np.argsort([len(examples[i]) for i in order], kind="stable")]
    batches: list[list[int]] = []
    current: list[int] = []
    for i in order.tolist():
        width = len(examples[i]) - 1
        if current and (len(current) + 1) * width > batch_positions:
            batches.append(current)
            current = []
        current.append(i)
    if current:
        batches.append(current)
    return [batches[j] for j in rng.permutation(len(batches))]


def _tensors(examples: list[list[int]], rows: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(len(examples[r]) for r in rows) - 1
    inputs = torch.zeros(len(rows), width, dtype=torch.long)
    targets = torch.zeros(len(rows), width, dtype=torch.long)
    for n, r in enumerate(rows):
        seq = torch.tensor(examples[r], dtype=torch.long)
        inputs[n, width - len(seq) + 1 :] = seq[:-1]
        targets[n, width - len(seq) + 1 :] = seq[1:]
    return inputs, targets


def rng_for_count() -> np.random.Generator:
    """A throwaway generator (counting batches must not advance the training one)."""
    return np.random.default_rng(0)


def lr_factor(schedule: str, total_steps: int) -> Callable[[int], float]:
    """The learning-rate multiplier at each optimizer step."""
    if schedule == "constant":
        return lambda step: 1.0
    return lambda step: max(0.0, 1.0 - step / max(total_steps, 1))


def fit(
    config: RecsConfig,
    split: Split,
    n_items: int,
    on_epoch: Callable[[dict[str, float]], None] | None = None,
) -> FitResult:
    """Train a SASRec on `split.train`, early-stopping on `split.validation`.

    Args:
        config: training settings.
        split: the leave-last-out split (item indices 1..n_items).
        n_items: catalogue size.
        on_epoch: called with each epoch's record (loss, seconds, validation metrics).

    Raises:
        TooLittleDataError: nothing to train or validate on.
    """
    check_enough(split, n_items, "interactions")
    previous_threads = torch.get_num_threads()
    torch.set_num_threads(config.threads)
    try:
        return _fit(config, split, n_items, on_epoch)
    finally:
        torch.set_num_threads(previous_threads)


def _fit(
    config: RecsConfig,
    split: Split,
    n_items: int,
    on_epoch: Callable[[dict[str, float]], None] | None,
) -> FitResult:
    seed_everything(config.seed)
    rng = np.random.default_rng(config.seed)
    model = build_model(config, n_items)
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay
    )
    examples = training_examples(split.train, config.max_len)
    # The batch count depends only on the sequence lengths, not on the shuffle.
    steps = config.epochs * len(make_batches(examples, config.batch_positions, rng_for_count()))
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_factor(config.schedule, steps))
    validation = split.validation
    if 0 < config.validation_shoppers < len(validation):
        picked = rng.choice(len(validation), config.validation_shoppers, replace=False)
        validation = [validation[i] for i in sorted(picked.tolist())]
    negatives = sample_negatives(validation, n_items, config.negatives, DEFAULT_EVAL_SEED)
    started = time.perf_counter()
    best_score, best_epoch, stale = -1.0, 0, 0
    best_state: dict[str, Any] = copy.deepcopy(model.state_dict())
    best_metrics: dict[str, float] = {}
    history: list[dict[str, float]] = []
    epoch = 0
    for epoch in range(1, config.epochs + 1):
        model.train()
        batches = make_batches(examples, config.batch_positions, rng)
        total, count = 0.0, 0
        bar = tqdm(
            batches, desc=f"epoch {epoch}", unit="batch", disable=not config.progress, leave=False
        )
        for rows in bar:
            inputs, targets = _tensors(examples, rows)
            mask = targets > 0
            states = model.encode(inputs)[mask]
            loss = model.loss(states, targets[mask])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            scheduler.step()
            n = int(mask.sum())
            total += float(loss.detach()) * n
            count += n
            bar.set_postfix(loss=f"{total / count:.3f}", refresh=False)
        metrics = evaluate_scorer(
            model_scorer(model), validation, n_items, negatives, DEFAULT_EVAL_SEED
        )
        record = {
            "epoch": float(epoch),
            "loss": total / max(count, 1),
            "seconds": time.perf_counter() - started,
            **metrics,
        }
        history.append(record)
        if on_epoch is not None:
            on_epoch(record)
        if metrics[config.stop_metric] > best_score:
            best_score, best_epoch, stale = metrics[config.stop_metric], epoch, 0
            best_state = copy.deepcopy(model.state_dict())
            best_metrics = metrics
        else:
            stale += 1
        out_of_time = (
            config.time_budget_s is not None
            and time.perf_counter() - started > config.time_budget_s
        )
        if stale >= config.patience or out_of_time:
            break
    model.load_state_dict(best_state)
    model.eval()
    return FitResult(
        model=model,
        validation=best_metrics,
        best_epoch=best_epoch,
        epochs_run=epoch,
        seconds=time.perf_counter() - started,
        history=history,
    )


def train(
    interactions: Interactions,
    config: RecsConfig | None = None,
    output_dir: str | Path = DEFAULT_MODEL_DIR,
    on_epoch: Callable[[dict[str, float]], None] | None = None,
) -> Path:
    """Train on `interactions`, score the test items, and save the artifact.

    >>> from recs import RecsConfig, load_interactions, train  # doctest: +SKIP
    >>> train(load_interactions("interactions.txt"), RecsConfig(epochs=5), "models/recs")  # doctest: +SKIP

    Args:
        interactions: the shoppers' sequences.
        config: settings (default: `RecsConfig()`).
        output_dir: the artifact folder (replaced atomically).
        on_epoch: called with each epoch's record.

    Returns:
        The artifact folder.

    Raises:
        TooLittleDataError: too few shoppers or items to train and validate.
    """
    config = config or RecsConfig()
    items, seqs = encode(interactions)
    split = leave_last_out(seqs)
    check_enough(split, items.n_items, interactions.source or "interactions")
    result = fit(config, split, items.n_items, on_epoch)
    scorer = model_scorer(result.model)
    metrics = {
        name: evaluate_scorer(
            scorer,
            cases,
            items.n_items,
            sample_negatives(cases, items.n_items, config.negatives, DEFAULT_EVAL_SEED),
        )
        for name, cases in (("validation", split.validation), ("test", split.test))
    }
    meta = RecsMeta(
        config=config.to_dict(),
        item_index=dict(items.index),
        n_shoppers=interactions.n_shoppers,
        n_interactions=interactions.n_interactions,
        metrics=metrics,
        data_hash=interactions.data_hash(),
        source=interactions.source,
        train_seconds=round(result.seconds, 1),
        best_epoch=result.best_epoch,
        epochs_run=result.epochs_run,
    )
    return save_artifact(output_dir, result.model.state_dict(), meta)
