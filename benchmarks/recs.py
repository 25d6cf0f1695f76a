"""Benchmark the sequential recommender against popularity and co-occurrence baselines.

Trains SASRec (`recs.train`, default settings) on a `user item` file, evaluates it and
both baselines with the standard protocol (leave-last-out; HR@10 and NDCG@10 among
100 sampled negatives and over the full catalogue), times one-shopper inference, prints
the results and rewrites the `recs` section of docs/benchmarks.md.

    .venv/bin/python benchmarks/recs.py --data /work/shared/datasets/amazon-games-seq/Video.txt
    .venv/bin/python benchmarks/recs.py --data FILE --epochs 3 --no-docs

The data is read from its path (research data: never copy it into the project).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
# Idle OpenMP threads sleep instead of spinning: with cores shared by other jobs, a
# spinning thread waiting for a descheduled one makes an epoch several times slower.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import torch  # noqa: E402

from recs.artifact import RecsMeta  # noqa: E402
from recs.config import RecsConfig  # noqa: E402
from recs.data import read_file  # noqa: E402
from recs.evaluation import evaluate, format_table  # noqa: E402
from recs.recommender import Recommender  # noqa: E402
from recs.training import train  # noqa: E402

DOC = REPO / "docs" / "benchmarks.md"
BEGIN, END = "<!-- begin:recs -->", "<!-- end:recs -->"
KEYS = ("hr@10", "ndcg@10", "full_hr@10", "full_ndcg@10")
# SASRec on Amazon Video Games, Kang & McAuley 2018, table III (100 sampled negatives).
PUBLISHED = {"hr@10": 0.7410, "ndcg@10": 0.5360}


def time_recommend(
    rec: Recommender, histories: list[list[str]], calls: int = 500
) -> dict[str, float]:
    """Milliseconds per `recommend(history, k=10)` on one thread."""
    torch.set_num_threads(1)
    rng = random.Random(0)
    picked = [rng.choice(histories) for _ in range(calls)]
    rec.recommend(picked[0])
    times: list[float] = []
    for history in picked:
        started = time.perf_counter()
        rec.recommend(history, k=10)
        times.append(1000 * (time.perf_counter() - started))
    times.sort()
    return {
        "p50": statistics.median(times),
        "p99": times[int(0.99 * (len(times) - 1))],
        "mean": statistics.fmean(times),
    }


def render(
    info: dict[str, Any], result: dict[str, Any], meta: RecsMeta, latency: dict[str, float]
) -> str:
    """The markdown of the `recs` section."""
    rows = [("SASRec (full softmax CE)", {k: result[k] for k in KEYS})]
    rows += [(name, metrics) for name, metrics in result["baselines"].items()]
    table = [
        "| method | HR@10 | NDCG@10 | full HR@10 | full NDCG@10 |",
        "|---|---:|---:|---:|---:|",
        *(f"| {name} | " + " | ".join(f"{m[k]:.4f}" for k in KEYS) + " |" for name, m in rows),
        f"| SASRec as published (BCE, 1 negative) | {PUBLISHED['hr@10']:.4f} | "
        f"{PUBLISHED['ndcg@10']:.4f} | | |",
    ]
    cfg = meta.config
    val = meta.metrics["validation"]
    lines = [
        "## recs",
        "",
        f"`benchmarks/recs.py`, run {info['date']} on {info['machine']}; command: "
        f"`{info['command']}`.",
        "",
        f"Data: `{info['data_name']}` (Amazon Video Games as preprocessed for SASRec): "
        f"{meta.n_shoppers:,} shoppers, {len(meta.item_index):,} items, "
        f"{meta.n_interactions:,} interactions; {result['shoppers']:,} test shoppers. "
        "Leave-last-out (last item test, the one before validation); HR/NDCG among 100 "
        "negatives sampled uniformly from the items the shopper never touched (fixed seed, "
        "the same for every method), full_* ranked over the whole catalogue without the "
        "shopper's history items. Ties broken at random (seeded).",
        "",
        *table,
        "",
        f"- training: {meta.train_seconds:.0f} s wall with the per-epoch validation "
        f"({info['train_wall']:.0f} s with the final validation and test scoring; "
        f"{meta.epochs_run} epochs, best epoch {meta.best_epoch} kept by validation "
        f"{cfg['stop_metric']}), {info['threads']} torch threads",
        f"- model: hidden {cfg['hidden']}, {cfg['blocks']} blocks, {cfg['heads']} head(s), "
        f"dropout {cfg['dropout']}, max length {cfg['max_len']}, AdamW lr "
        f"{cfg['learning_rate']}, ~{cfg['batch_positions']} positions per batch, seed "
        f"{cfg['seed']}",
        f"- validation (best epoch, all validation shoppers): HR@10 {val['hr@10']:.4f}, "
        f"NDCG@10 {val['ndcg@10']:.4f}, full HR@10 {val['full_hr@10']:.4f}, full NDCG@10 "
        f"{val['full_ndcg@10']:.4f}",
        f"- `Recommender.recommend` for one shopper (1 thread): p50 {latency['p50']:.2f} ms, "
        f"p99 {latency['p99']:.2f} ms",
        f"- evaluation of the model and both baselines: {info['eval_seconds']:.0f} s",
        f"- load average before / after: {info['load_before']} / {info['load_after']}",
    ]
    return "\n".join(lines)


def write_section(section: str, doc: Path = DOC) -> None:
    """Replace (or append) the `recs` section of docs/benchmarks.md."""
    text = doc.read_text(encoding="utf-8") if doc.exists() else "# Benchmarks\n"
    block = f"{BEGIN}\n{section}\n{END}"
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        tail = rest.split(END, 1)[1]
        text = head + block + tail
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    doc.write_text(text, encoding="utf-8")


def _load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="`user item` file, time order")
    parser.add_argument("--out", type=Path, default=DOC, help="markdown file to update")
    parser.add_argument("--no-docs", action="store_true", help="print only, write no docs")
    parser.add_argument(
        "--force-docs", action="store_true", help="write the docs even below the acceptance bar"
    )
    parser.add_argument("--model-dir", type=Path, help="keep the artifact here (default: temp)")
    parser.add_argument("--epochs", type=int, help="override the most epochs")
    parser.add_argument(
        "--config", type=json.loads, default={}, help="JSON of RecsConfig overrides"
    )
    args = parser.parse_args(argv)

    overrides = dict(args.config)
    if args.epochs is not None:
        overrides["epochs"] = args.epochs
    config = RecsConfig(**overrides)
    threads = config.threads
    info: dict[str, Any] = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}, torch {torch.__version__}",
        "command": "python benchmarks/recs.py "
        + " ".join(argv if argv is not None else sys.argv[1:]),
        "data_name": args.data.name,
        "threads": threads,
        "load_before": _load(),
    }
    interactions = read_file(args.data)
    print(
        f"{args.data}: {interactions.n_shoppers} shoppers, {len(interactions.items())} items, "
        f"{interactions.n_interactions} interactions",
        flush=True,
    )

    def report(record: dict[str, float]) -> None:
        print(json.dumps({k: round(v, 4) for k, v in record.items()}), flush=True)

    with tempfile.TemporaryDirectory() as tmp:
        out = args.model_dir or Path(tmp) / "recs"
        started = time.perf_counter()
        train(interactions, config, out, on_epoch=report)
        train_wall = time.perf_counter() - started
        info["train_wall"] = train_wall
        meta = RecsMeta.load(out)
        rec = Recommender.load(out, num_threads=None)
        torch.set_num_threads(threads)
        started = time.perf_counter()
        result = evaluate(rec, interactions)
        info["eval_seconds"] = time.perf_counter() - started
        latency = time_recommend(rec, list(interactions.sequences.values()))
    info["load_after"] = _load()
    print(format_table(result))
    print(
        f"training {meta.train_seconds:.0f} s (wall incl. final scoring {train_wall:.0f} s), "
        f"best epoch {meta.best_epoch} of {meta.epochs_run}; recommend p50 "
        f"{latency['p50']:.2f} ms, p99 {latency['p99']:.2f} ms"
    )
    section = render(info, result, meta, latency)
    passed = (
        result["hr@10"] >= PUBLISHED["hr@10"]
        and result["ndcg@10"] >= PUBLISHED["ndcg@10"]
        and all(
            result[k] > result["baselines"][b][k]
            for k in ("full_hr@10", "full_ndcg@10")
            for b in result["baselines"]
        )
        and meta.train_seconds < 15 * 60
    )
    print(f"acceptance (>= published SASRec, ahead of baselines, < 15 min): {passed}")
    if not args.no_docs and (passed or args.force_docs):
        write_section(section, args.out)
        print(f"wrote the recs section of {args.out}")
    return 0 if passed else 1


if __name__ == "__main__":
    raise SystemExit(main())
