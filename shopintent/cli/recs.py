"""`shopintent recs train` and `shopintent recs evaluate`.

The `train` flags besides the data source and output are generated from the
`RecsConfig` dataclass, so the CLI and the Python API offer the same settings. Heavy
imports (torch) happen inside the handlers, so `shopintent --help` stays fast.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from recs.config import DEFAULT_DATABASE_URL, RecsConfig, get_settings
from shopintent.cli.common import (
    Subparsers,
    add_command,
    add_database_url,
    add_dataclass_flags,
    add_group,
    add_json,
    add_model,
    given,
)

# Flags spelled here, not generated from RecsConfig.
_OWN_FLAGS = frozenset({"epochs", "seed"})


def register(sub: Subparsers) -> None:
    """Train and evaluate the sequential recommender (SASRec).

    Personalised recommendations from what shoppers bought and viewed: a SASRec self-attention model
    over each shopper's item sequence.
    """
    commands = add_group(sub, "recs", register.__doc__)
    train = add_command(commands, run_train)
    _add_source(train)
    train.add_argument(
        "--output", type=Path, default=None, help="artifact folder (default: models/recs)"
    )
    defaults = RecsConfig.defaults()
    train.add_argument(
        "--epochs", type=int, default=None, help=f"most epochs (default: {defaults['epochs']})"
    )
    train.add_argument(
        "--seed", type=int, default=None, help=f"random seed (default: {defaults['seed']})"
    )
    add_dataclass_flags(train, RecsConfig, defaults, skip=_OWN_FLAGS)

    evaluate = add_command(commands, run_evaluate)
    _add_source(evaluate)
    add_model(evaluate, help="artifact folder (default: models/recs)")
    add_json(evaluate, help="print one JSON object instead of a table")


def _add_source(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--data", type=Path, help="a file of `user item` lines in time order (whitespace separated)"
    )
    add_database_url(
        group,
        help="SQLAlchemy URL of the shop's store: orders, order_lines and bot_events "
        f"(default: SHOPINTENT_DATABASE_URL, else {DEFAULT_DATABASE_URL})",
    )


def _model_dir(arg: Path | None) -> Path:
    return arg if arg is not None else Path(get_settings().recs_model_dir)


def _passive_threads() -> None:
    # Idle OpenMP threads spin by default; on a machine whose cores are shared with
    # other jobs a spinning thread waits for a descheduled one and a training epoch
    # runs several times slower. Only takes effect before torch is first imported.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def run_train(args: argparse.Namespace) -> int:
    """Train the recommender and save its artifact.

    Train SASRec with full softmax cross-entropy on every shopper's sequence except the last two
    items (validation, test), keep the epoch with the best validation score, rank the test items and
    save model.pt + recs.json atomically.
    """
    _passive_threads()
    from recs.artifact import RecsMeta
    from recs.data import load_interactions
    from recs.training import train

    config = RecsConfig(**given(args, RecsConfig))
    interactions = load_interactions(args.data, args.database_url)
    print(
        f"{interactions.source}: {interactions.n_shoppers} shoppers, "
        f"{len(interactions.items())} items, {interactions.n_interactions} interactions",
        file=sys.stderr,
    )

    def report(record: dict[str, float]) -> None:
        print(
            f"epoch {int(record['epoch'])}: loss {record['loss']:.4f}, validation "
            f"NDCG@10 {record['ndcg@10']:.4f} (full {record['full_ndcg@10']:.4f}), "
            f"{record['seconds']:.0f} s",
            file=sys.stderr,
        )

    out = train(interactions, config, _model_dir(args.output), on_epoch=report)
    meta = RecsMeta.load(out)
    test = meta.metrics["test"]
    print(
        f"saved {out} (version {meta.model_version}, {len(meta.item_index)} items) in "
        f"{meta.train_seconds:.0f} s; best epoch {meta.best_epoch} of {meta.epochs_run}"
    )
    print(
        f"test: HR@10 {test['hr@10']:.4f}, NDCG@10 {test['ndcg@10']:.4f} (100 sampled "
        f"negatives); full catalogue HR@10 {test['full_hr@10']:.4f}, "
        f"NDCG@10 {test['full_ndcg@10']:.4f}"
    )
    return 0


def run_evaluate(args: argparse.Namespace) -> int:
    """Score the recommender and two baselines (leave-last-out, HR@10, NDCG@10).

    Split the data leave-last-out, rank each shopper's last item with the model, a popularity
    baseline and an item-to-item co-occurrence baseline, and report HR@10 and NDCG@10 among 100
    sampled negatives and over the whole catalogue.
    """
    _passive_threads()
    import torch

    from recs.data import load_interactions
    from recs.evaluation import evaluate, format_table
    from recs.recommender import Recommender

    model_dir = _model_dir(args.model)
    recommender = Recommender.load(model_dir, num_threads=None)
    torch.set_num_threads(RecsConfig().threads)
    interactions = load_interactions(args.data, args.database_url)
    result = evaluate(recommender, interactions)
    result["model_version"] = recommender.model_version
    if args.json:
        print(json.dumps(result))
        return 0
    print(f"model {model_dir} (version {recommender.model_version}), data {interactions.source}")
    if interactions.data_hash() != recommender.meta.data_hash:
        print(
            "note: this is not the data the model was trained on; its test items may have "
            "been training items of the model"
        )
    print(format_table(result))
    return 0
