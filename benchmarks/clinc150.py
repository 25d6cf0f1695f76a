"""CLINC150 (Larson et al. 2019): 150 intents plus out-of-scope queries.

Trains on `train` + `oos_train`, chooses the temperature and the rejection
threshold on `val` + `oos_val` (never on test), and reports in-scope accuracy and
OOS recall on `test` + `oos_test` next to the published BERT numbers.

    python benchmarks/clinc150.py --data PATH/data_full.json [--epochs 8] [--out runs/clinc150]
    python benchmarks/clinc150.py --data PATH/data_full.json --limit-per-intent 10 --epochs 1  # smoke
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.nlu_common import (
    limit_per_intent,
    nlu_parser,
    parse_latency,
    pct,
    run_footer,
    run_results,
    save_results,
    train_config,
    train_timed,
    write_section,
)

OOS = "oos"
PUBLISHED = [
    ("BERT, OOS as a class (Larson et al. 2019)", 0.969, 0.403),
    ("BERT + softmax threshold (Larson et al. 2019)", 0.962, 0.523),
]


def load_clinc(path: Path) -> dict[str, tuple[list[str], list[str]]]:
    """Return `train`, `val` and `test` splits (OOS queries labelled `oos`) of data_full.json."""
    raw = json.loads(path.read_text(encoding="utf-8"))
    splits = {}
    for split in ("train", "val", "test"):
        rows = raw[split] + raw[f"oos_{split}"]
        splits[split] = ([r[0] for r in rows], [r[1] for r in rows])
    return splits


def main(argv: list[str] | None = None) -> int:
    parser = nlu_parser(__doc__, "CLINC150 data_full.json", epochs=8.0, max_length=48)
    args = parser.parse_args(argv)

    from nlu.evaluation import evaluate_texts
    from nlu.training import LabelledTexts, prepare_data

    splits = load_clinc(args.data)
    train_texts, train_labels = limit_per_intent(
        *splits["train"], args.limit_per_intent, args.seed, [OOS]
    )
    val_texts, val_labels = limit_per_intent(
        *splits["val"], args.limit_per_intent, args.seed, [OOS]
    )
    test_texts, test_labels = limit_per_intent(
        *splits["test"], args.test_limit_per_intent, args.seed, [OOS]
    )
    out = args.out or Path("runs/clinc150")
    config = train_config(args, out, oos_label=OOS)
    data = prepare_data(
        LabelledTexts(train_texts, train_labels),
        validation_fraction=config.validation_fraction,
        seed=config.seed,
        validation=LabelledTexts(val_texts, val_labels),
    )
    print(f"CLINC150: {len(train_texts)} train, {len(val_texts)} val, {len(test_texts)} test")
    clf, train_seconds = train_timed(config, data)

    result = evaluate_texts(clf, test_texts, test_labels, oos_label=OOS, out_dir=out / "report")
    s = result.summary
    p50, p95 = parse_latency(clf, test_texts)
    save_results(out, run_results(s, config, train_seconds, p50, p95, oos_method=args.oos_method))

    subset = (
        f" (subset: {args.limit_per_intent} per intent, every `oos` query kept)"
        if args.limit_per_intent
        else ""
    )
    md = f"""## CLINC150 (in-scope accuracy and out-of-scope recall)

Data: CLINC150 `data_full.json` (Larson et al. 2019, CC BY 3.0): {len(train_texts)} training,
{len(val_texts)} validation and {len(test_texts)} test queries{subset}; 150 intents plus `oos`.
Threshold and temperature chosen on `val` + `oos_val`; numbers are on `test` + `oos_test`.

| model | in-scope accuracy | OOS recall | OOS precision | macro F1 | ECE |
|---|---|---|---|---|---|
| ours: MiniLM-L6 fine-tuned, OOS class + {args.oos_method} threshold | {pct(s["in_scope_accuracy"])} | {pct(s["oos_recall"])} | {pct(s["oos_precision"])} | {pct(s["macro_f1"])} | {pct(s["ece"])} |
{chr(10).join(f"| {name} | {100 * a:.1f} | {100 * r:.1f} | | | |" for name, a, r in PUBLISHED)}

{run_footer(config, train_seconds, p50, p95, "clinc150.py", argv)}"""
    if not args.no_docs:
        write_section("clinc150", md, args.docs)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
