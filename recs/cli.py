"""`shopintent recs train` and `shopintent recs evaluate`.

The `train` flags besides the data source and output are generated from the
`RecsConfig` dataclass, so the CLI and the Python API offer the same settings. Heavy
imports (torch) happen inside the handlers, so `shopintent --help` stays fast.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import sys
from collections.abc import Callable
from dataclasses import fields
from pathlib import Path
from typing import Any

from recs.config import DEFAULT_DATABASE_URL, RecsConfig, get_settings
from recs.errors import RecsError

# Flags spelled here, not generated from RecsConfig.
_OWN_FLAGS = {"epochs", "seed"}


def register(sub: Any) -> None:
    """Add the `recs` command group to the `shopintent` parser's subparsers."""
    recs = sub.add_parser(
        "recs",
        help="train and evaluate the sequential recommender (SASRec)",
        description=(
            "Personalised recommendations from what shoppers bought and viewed: a SASRec "
            "self-attention model over each shopper's item sequence."
        ),
    )
    recs.set_defaults(group_parser=recs)
    commands = recs.add_subparsers(dest="recs_command", metavar="COMMAND")
    _register_train(commands)
    _register_evaluate(commands)


def _source_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--data", type=Path, help="a file of `user item` lines in time order (whitespace separated)"
    )
    group.add_argument(
        "--database-url",
        help="SQLAlchemy URL of the shop's store: orders, order_lines and bot_events "
        f"(default: SHOPINTENT_DATABASE_URL, else {DEFAULT_DATABASE_URL})",
    )


def _register_train(sub: Any) -> None:
    p = sub.add_parser(
        "train",
        help="train the recommender and save its artifact",
        description=(
            "Train SASRec with full softmax cross-entropy on every shopper's sequence except "
            "the last two items (validation, test), keep the epoch with the best validation "
            "score, rank the test items and save model.pt + recs.json atomically."
        ),
    )
    _source_options(p)
    p.add_argument(
        "--output", type=Path, default=None, help="artifact folder (default: models/recs)"
    )
    defaults = RecsConfig.defaults()
    p.add_argument(
        "--epochs", type=int, default=None, help=f"most epochs (default: {defaults['epochs']})"
    )
    p.add_argument(
        "--seed", type=int, default=None, help=f"random seed (default: {defaults['seed']})"
    )
    for f in fields(RecsConfig):
        if f.name in _OWN_FLAGS:
            continue
        kind = str(f.type)
        kwargs: dict[str, Any] = {
            "dest": f.name,
            "default": None,
            "help": f.metadata.get("help", "")
            + ("" if defaults[f.name] is None else f" (default: {defaults[f.name]})"),
        }
        if kind.startswith("bool"):
            kwargs["action"] = argparse.BooleanOptionalAction
        elif kind.startswith("int"):
            kwargs["type"] = int
        elif kind.startswith("float"):
            kwargs["type"] = float
        else:
            kwargs["type"] = str
        p.add_argument("--" + f.name.replace("_", "-"), **kwargs)
    p.set_defaults(func=run_train)


def _register_evaluate(sub: Any) -> None:
    p = sub.add_parser(
        "evaluate",
        help="score the recommender and two baselines (leave-last-out, HR@10, NDCG@10)",
        description=(
            "Split the data leave-last-out, rank each shopper's last item with the model, a "
            "popularity baseline and an item-to-item co-occurrence baseline, and report "
            "HR@10 and NDCG@10 among 100 sampled negatives and over the whole catalogue."
        ),
    )
    _source_options(p)
    p.add_argument(
        "--model", type=Path, default=None, help="artifact folder (default: models/recs)"
    )
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    p.set_defaults(func=run_evaluate)


def _clean_errors(func: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """Print a `RecsError` as one line (no traceback) and exit with 2, like the other packages."""

    @functools.wraps(func)
    def wrapper(args: argparse.Namespace) -> int:
        try:
            return func(args)
        except RecsError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2

    return wrapper


def _model_dir(arg: Path | None) -> Path:
    return arg if arg is not None else Path(get_settings().recs_model_dir)


def _passive_threads() -> None:
    # Idle OpenMP threads spin by default; on a machine whose cores are shared with
    # other jobs a spinning thread waits for a descheduled one and a training epoch
    # runs several times slower. Only takes effect before torch is first imported.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


@_clean_errors
def run_train(args: argparse.Namespace) -> int:
    """Handle `shopintent recs train`."""
    _passive_threads()
    from recs.artifact import RecsMeta
    from recs.data import load_interactions
    from recs.training import train

    overrides = {f.name: getattr(args, f.name, None) for f in fields(RecsConfig)}
    config = RecsConfig(**{k: v for k, v in overrides.items() if v is not None})
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


@_clean_errors
def run_evaluate(args: argparse.Namespace) -> int:
    """Handle `shopintent recs evaluate`."""
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
