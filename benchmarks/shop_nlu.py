"""The shop intent model on the shipped data: test metrics, training time, parse latency.

Trains the default model on training_data/ (or takes a trained one with --model),
evaluates it on the held-out training_data/test/ split, times `parse` on single
messages on CPU and rewrites the `nlu_shop` section of docs/benchmarks.md.

    python benchmarks/shop_nlu.py                       # train with the defaults, then measure
    python benchmarks/shop_nlu.py --model models/default
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.nlu_common import DOCS, machine, parse_latency, pct, write_section


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("training_data"))
    parser.add_argument("--model", type=Path, default=None, help="measure this model, no training")
    parser.add_argument("--out", type=Path, default=Path("runs/shop_nlu"))
    parser.add_argument("--num-threads", type=int, default=None, help="training threads")
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
    clf = IntentClassifier.load(model_dir)
    test = read_splits(args.data)["test"].examples
    texts, labels = [e.text for e in test], [e.intent for e in test]
    result = evaluate_texts(clf, texts, labels, out_dir=args.out / "report")
    s = result.summary
    p50, p95 = parse_latency(clf, texts)
    started = time.perf_counter()
    clf.parse_batch(texts)
    batch_rate = len(texts) / (time.perf_counter() - started)
    meta = clf.meta
    cfg = meta.train_config
    numbers = {
        **s,
        "train_seconds": meta.train_seconds,
        "parse_p50_ms": round(p50, 2),
        "parse_p95_ms": round(p95, 2),
        "batch_messages_per_s": round(batch_rate, 1),
        "model_version": clf.version,
        "machine": machine(),
    }
    print(json.dumps(numbers, indent=2))
    md = f"""## Shop intent model (shipped data)

`{len(meta.labels)}` intents, trained on `training_data/` with the defaults
({meta.train_steps or "?"} steps, {meta.pooling}-pooled head, lr {cfg["learning_rate"]:g},
batch {cfg["batch_size"]}, {meta.decision.oos_method} rejection, threshold from
{meta.decision.threshold_source}, confidence floor {meta.decision.min_confidence:g});
evaluated on the held-out `training_data/test/` split ({s["n"]} messages).

| in-scope accuracy | OOS recall | OOS precision | accuracy (all) | macro F1 | weighted F1 | ECE |
|---|---|---|---|---|---|---|
| {pct(s["in_scope_accuracy"])} | {pct(s["oos_recall"])} | {pct(s["oos_precision"])} | {pct(s["accuracy"])} | {pct(s["macro_f1"])} | {pct(s["weighted_f1"])} | {pct(s["ece"])} |

- training: {meta.train_seconds:.0f} s wall on the machine below ({cfg.get("num_threads") or "default"} torch threads)
- `parse` of one message (1 thread): p50 {p50:.1f} ms, p95 {p95:.1f} ms
- `parse_batch` of the test split: {batch_rate:.0f} messages/s
- model `{clf.version}`; machine: {machine()}

Command: `python benchmarks/shop_nlu.py` (or `--model DIR` to measure a trained model).
"""
    if not args.no_docs:
        write_section("nlu_shop", md, args.docs)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
