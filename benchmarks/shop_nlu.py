"""The shop intent model on the shipped data, on each backend: accuracy, parse latency, throughput.

Trains the default model on training_data/ (or takes a trained one with --model),
then for torch, ONNX and int8 ONNX on the same model, in one run: evaluates it on the
held-out training_data/test/ split, times `parse` of single messages with one thread
(p50/p99, tokenisation and entity extraction included) and `parse_batch` of the whole
split, and rewrites the `nlu_shop` section of docs/benchmarks.md.

    python benchmarks/shop_nlu.py                       # train with the defaults, then measure
    python benchmarks/shop_nlu.py --model models/default
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.nlu_common import DOCS, machine, parse_latency, pct, write_section

BACKENDS = ("torch", "onnx", "onnx-int8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("training_data"))
    parser.add_argument("--model", type=Path, default=None, help="measure this model, no training")
    parser.add_argument("--out", type=Path, default=Path("runs/shop_nlu"))
    parser.add_argument("--num-threads", type=int, default=None, help="training threads")
    parser.add_argument("--n", type=int, default=1000, help="single-message parses timed")
    parser.add_argument("--docs", type=Path, default=DOCS)
    parser.add_argument("--no-docs", action="store_true")
    args = parser.parse_args(argv)

    from nlu.classifier import IntentClassifier
    from nlu.config import TrainConfig
    from nlu.data import read_splits
    from nlu.evaluation import evaluate_texts
    from nlu.training import train

    model_dir = args.model
    if model_dir is None:
        config = TrainConfig(
            data=[str(args.data)], output_dir=str(args.out / "model"), num_threads=args.num_threads
        )
        started = time.perf_counter()
        model_dir = train(config)
        print(f"trained in {time.perf_counter() - started:.0f} s")
    test = read_splits(args.data)["test"].examples
    texts, labels = [e.text for e in test], [e.intent for e in test]
    rows: dict[str, dict[str, Any]] = {}
    for backend in BACKENDS:
        clf = IntentClassifier.load(model_dir, backend=backend, num_threads=1)
        result = evaluate_texts(clf, texts, labels, out_dir=args.out / f"report-{backend}")
        p50, p99 = parse_latency(clf, texts, args.n, quantile=0.99, warmup=20)
        started = time.perf_counter()
        clf.parse_batch(texts)
        rate = len(texts) / (time.perf_counter() - started)
        rows[backend] = {
            **result.summary,
            "parse_p50_ms": round(p50, 2),
            "parse_p99_ms": round(p99, 2),
            "batch_messages_per_s": round(rate, 1),
        }
        print(backend, json.dumps(rows[backend]), flush=True)
    meta = clf.meta
    cfg = meta.train_config
    checks = (meta.onnx or {}).get("checks", {})
    base = rows["torch"]
    lines = []
    for backend, r in rows.items():
        check = checks.get(backend)
        agree = f"{check['agreement']:.1%} / {check['max_confidence_diff']:.3f}" if check else "-"
        speedup = base["parse_p50_ms"] / r["parse_p50_ms"]
        lines.append(
            f"| {backend} | {r['parse_p50_ms']:.1f} | {r['parse_p99_ms']:.1f} | {speedup:.1f}x "
            f"| {r['batch_messages_per_s']:.0f} | {pct(r['macro_f1'])} "
            f"| {(r['macro_f1'] - base['macro_f1']) * 100:+.2f} | {pct(r['in_scope_accuracy'])} "
            f"| {pct(r['oos_recall'])} | {pct(r['ece'])} | {agree} |"
        )
    numbers = {"backends": rows, "model_version": meta.model_version, "machine": machine()}
    print(json.dumps(numbers, indent=2))
    md = f"""## Shop intent model (shipped data), per backend

`{len(meta.labels)}` intents, trained on `training_data/` with the defaults
({meta.train_steps or "?"} steps, {meta.pooling}-pooled head, lr {cfg["learning_rate"]:g},
batch {cfg["batch_size"]}, {meta.decision.oos_method} rejection, threshold from
{meta.decision.threshold_source}, confidence floor {meta.decision.min_confidence:g});
evaluated on the held-out `training_data/test/` split ({base["n"]} messages). The same
model on each backend, in one run: `parse` of one message with one thread
({args.n} messages, tokenisation, decision rule and entity extraction included),
`parse_batch` over the split, and the agreement check recorded at export (same final
intent on the validation part / largest top-confidence difference against PyTorch).

| backend | parse p50 ms | parse p99 ms | p50 speed-up | batch msg/s | macro F1 | Δ macro F1 (pts) | in-scope acc | OOS recall | ECE | export check |
|---|---|---|---|---|---|---|---|---|---|---|
{chr(10).join(lines)}

- training: {meta.train_seconds:.0f} s wall ({cfg.get("num_threads") or "default"} torch threads)
- int8 runs one message per session call (its activation scales are per batch, so batching
  would let one shopper's message move another's confidence)
- model `{meta.model_version}`; machine: {machine()}

Command: `python benchmarks/shop_nlu.py` (or `--model DIR` to measure a trained model).
"""
    if not args.no_docs:
        write_section("nlu_shop", md, args.docs)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
