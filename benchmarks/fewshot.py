"""Few-shot intent benchmarks without out-of-scope training data, as a shop would train.

A shop brings 5-30 examples per intent and no out-of-scope examples, while a large
share of what shoppers type is out of scope. Each protocol below trains exactly as
`shopintent train --data train.csv --oos-label oos` does (the CSVs are written to
`--out`) and scores exactly as `shopintent evaluate --model M --data test.csv
--oos-label oos --json`: overall accuracy with out-of-scope as a class, in-scope
accuracy (a rejected in-scope message is wrong), OOS recall and precision.

Protocols (data from `--data`, the `fewshot-intent` folder; never copied here):
- `clinc10`, `clinc5`: CLINC150 `train_10` / `train_5`; test `test` + `oos/test`.
- `banking15`: BANKING77-OOS, 15 per intent (positions floor(i*n/15) of `train` in file
  order); test `test` + `id-oos/test` + `ood-oos/test`.
- `hwu10`: HWU64 `train_10`; test `test` (in-scope only).
- `shop15`: the shipped training data cut to 15 per intent without `out_of_scope`
  (same positions rule); test `training_data/test` with its OOS messages.

Rows per protocol: the previous defaults (3 epochs at 2e-4, the [CLS] head, no
confidence floor, no refit), frozen mean-pooled MiniLM + logistic regression (rejecting the
lowest 3 % of a held-out 10 %), and the current defaults.

    python benchmarks/fewshot.py --data ../shared/datasets/fewshot-intent [--only clinc10 banking15]
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.nlu_common import ROOT, command_line, machine, write_section

OOS = "oos"
Rows = list[tuple[str, str]]

# The decision and schedule `main` used before the few-shot work (docs/nlu.md).
PREVIOUS_DEFAULTS: dict[str, Any] = {
    "epochs": 3.0,
    "learning_rate": 2e-4,
    "pooling": "cls",
    "min_confidence": 0.0,
    "refit": False,
}


def read_split(folder: Path, label: str | None = None) -> Rows:
    """Read a `seq.in` + `label` folder, skipping empty lines; `label` overrides the labels."""
    texts = (folder / "seq.in").read_text(encoding="utf-8").split("\n")
    labels = (folder / "label").read_text(encoding="utf-8").split("\n")
    return [
        (t.strip(), label or y.strip())
        for t, y in zip(texts, labels, strict=False)
        if t.strip() and y.strip()
    ]


def every_nth(rows: Rows, per_intent: int) -> Rows:
    """Per intent with n rows (file order), those at positions floor(i*n/per_intent)."""
    by_label: dict[str, list[tuple[str, str]]] = {}
    for row in rows:
        by_label.setdefault(row[1], []).append(row)
    out: Rows = []
    for label_rows in by_label.values():
        n = len(label_rows)
        out.extend(label_rows[i * n // per_intent] for i in range(min(per_intent, n)))
    return out


def shop_rows(root: Path) -> tuple[Rows, Rows]:
    """The shipped data: train cut to 15 per intent without out_of_scope; its test split."""
    from nlu.data import read_splits

    splits = read_splits(str(root / "training_data"))
    train = [(e.text, e.intent) for e in splits["train"].examples if e.intent != "out_of_scope"]
    test = [
        (e.text, OOS if e.intent == "out_of_scope" else e.intent) for e in splits["test"].examples
    ]
    return every_nth(train, 15), test


def protocols(data: Path) -> dict[str, Callable[[], tuple[Rows, Rows]]]:
    """Each protocol's (train, test) rows, loaded on demand."""
    clinc, bank, hwu = data / "CLINC150", data / "BANKING77-OOS", data / "HWU64"
    return {
        "clinc10": lambda: (
            read_split(clinc / "train_10"),
            read_split(clinc / "test") + read_split(clinc / "oos" / "test", OOS),
        ),
        "clinc5": lambda: (
            read_split(clinc / "train_5"),
            read_split(clinc / "test") + read_split(clinc / "oos" / "test", OOS),
        ),
        "banking15": lambda: (
            every_nth(read_split(bank / "train"), 15),
            read_split(bank / "test")
            + read_split(bank / "id-oos" / "test", OOS)
            + read_split(bank / "ood-oos" / "test", OOS),
        ),
        "hwu10": lambda: (read_split(hwu / "train_10"), read_split(hwu / "test")),
        "shop15": lambda: shop_rows(ROOT),
    }


def write_csv(path: Path, rows: Rows) -> Path:
    """Write `text,label` rows."""
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["text", "label"])
        writer.writerows(rows)
    return path


def scores(y_true: list[str], y_pred: list[str]) -> dict[str, float | None]:
    """Accuracy with OOS as a class, in-scope accuracy, OOS recall and precision."""
    from core.wire import FALLBACK_INTENT

    rejected = [p in (OOS, FALLBACK_INTENT) for p in y_pred]
    right = [
        (t == OOS and r) or (t != OOS and p == t)
        for t, p, r in zip(y_true, y_pred, rejected, strict=True)
    ]
    is_oos = [t == OOS for t in y_true]
    n_oos, n_rej = sum(is_oos), sum(rejected)
    n_in = len(y_true) - n_oos
    return {
        "accuracy": sum(right) / len(y_true),
        "in_scope_accuracy": sum(r for r, o in zip(right, is_oos, strict=True) if not o)
        / max(n_in, 1),
        "oos_recall": sum(r for r, o in zip(rejected, is_oos, strict=True) if o) / n_oos
        if n_oos
        else None,
        "oos_precision": sum(o for r, o in zip(rejected, is_oos, strict=True) if r) / n_rej
        if n_rej
        else None,
    }


def run_trained(
    name: str, train_csv: Path, test_csv: Path, out: Path, overrides: dict[str, Any]
) -> tuple[dict[str, Any], Any]:
    """Train as `shopintent train --data train.csv --oos-label oos`, evaluate as the CLI does."""
    from nlu.classifier import IntentClassifier
    from nlu.config import TrainConfig
    from nlu.evaluation import evaluate
    from nlu.training import train

    config = TrainConfig(
        data=[str(train_csv)], oos_label=OOS, output_dir=str(out / name), **overrides
    )
    started = time.perf_counter()
    train(config)
    seconds = time.perf_counter() - started
    clf = IntentClassifier.load(out / name)
    result = evaluate(clf, str(test_csv), oos_label=OOS, plots=False)
    row = {k: result.summary.get(k) for k in ("accuracy", "in_scope_accuracy", "oos_recall")}
    row["oos_precision"] = result.summary.get("oos_precision")
    row["train_seconds"] = round(seconds, 1)
    row["steps"] = clf.meta.train_steps
    return row, clf


def frozen_baseline(train: Rows, test: Rows, seed: int) -> dict[str, Any]:
    """Frozen mean-pooled base embeddings + logistic regression, 3 % rejection quantile."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from transformers import AutoModel, AutoTokenizer

    from nlu.calibration import unit_rows
    from nlu.pooling import mean_pool
    from nlu.training import resolve_base_model, stratified_split

    started = time.perf_counter()
    base = resolve_base_model(None)
    tokenizer = AutoTokenizer.from_pretrained(base)
    model = AutoModel.from_pretrained(base).float().eval()

    def embed(texts: list[str]) -> Any:
        import torch

        out = []
        with torch.inference_mode():
            for i in range(0, len(texts), 64):
                enc = tokenizer(
                    texts[i : i + 64],
                    padding=True,
                    truncation=True,
                    max_length=64,
                    return_tensors="pt",
                )
                out.append(mean_pool(model(**enc).last_hidden_state, enc["attention_mask"]))
        return unit_rows(torch.cat(out).numpy())

    labels = [y for _, y in train]
    fit_idx, val_idx = stratified_split(labels, 0.1, seed)
    x = embed([t for t, _ in train])
    clf = LogisticRegression(max_iter=2000, C=10.0)
    clf.fit(x[fit_idx], [labels[i] for i in fit_idx])
    threshold = float(np.quantile(clf.predict_proba(x[val_idx]).max(axis=1), 0.03))
    seconds = time.perf_counter() - started
    probs = clf.predict_proba(embed([t for t, _ in test]))
    pred = [OOS if p.max() < threshold else str(clf.classes_[p.argmax()]) for p in probs]
    row: dict[str, Any] = dict(scores([y for _, y in test], pred))
    row["train_seconds"] = round(seconds, 1)
    return row


ROW_NAMES = ("previous defaults", "frozen MiniLM + logistic regression", "defaults")


def fmt(x: float | None) -> str:
    return "-" if x is None else f"{x:.3f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="the fewshot-intent folder")
    parser.add_argument("--only", nargs="+", default=None, help="protocols to run")
    parser.add_argument("--skip-previous", action="store_true", help="skip the previous defaults")
    parser.add_argument("--out", type=Path, default=Path("runs/fewshot"))
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--docs", type=Path, default=ROOT / "docs" / "benchmarks.md")
    parser.add_argument("--no-docs", action="store_true", help="print only")
    parser.add_argument(
        "--report", action="store_true", help="only rewrite the table from --out/results.json"
    )
    args = parser.parse_args(argv)
    all_protocols = protocols(args.data)
    names = args.only or list(all_protocols)
    unknown = sorted(set(names) - set(all_protocols))
    if unknown:
        parser.error(f"unknown protocols {unknown}; expected some of {sorted(all_protocols)}")
    args.out.mkdir(parents=True, exist_ok=True)
    results: dict[str, dict[str, Any]] = {}
    results_file = args.out / "results.json"
    if results_file.exists():
        results = json.loads(results_file.read_text())
    for name in [] if args.report else names:
        train, test = all_protocols[name]()
        folder = args.out / name
        folder.mkdir(parents=True, exist_ok=True)
        train_csv, test_csv = write_csv(folder / "train.csv", train), folder / "test.csv"
        write_csv(test_csv, test)
        n_intents = len({y for _, y in train})
        n_oos = sum(y == OOS for _, y in test)
        rows: dict[str, Any] = {}
        if not args.skip_previous:
            rows["previous defaults"], _ = run_trained(
                "previous", train_csv, test_csv, folder, dict(PREVIOUS_DEFAULTS, seed=args.seed)
            )
        elif name in results:
            rows.update(
                {k: v for k, v in results[name]["rows"].items() if k == "previous defaults"}
            )
        rows["frozen MiniLM + logistic regression"] = frozen_baseline(train, test, args.seed)
        rows["defaults"], _ = run_trained(
            "default", train_csv, test_csv, folder, {"seed": args.seed}
        )
        results[name] = {
            "train": len(train),
            "intents": n_intents,
            "test": len(test),
            "test_oos": n_oos,
            "rows": rows,
        }
        print(json.dumps({name: results[name]}, indent=2))
        results_file.write_text(json.dumps(results, indent=2) + "\n")
    markdown = render(results, argv)
    print(markdown)
    if not args.no_docs:
        write_section("fewshot", markdown, args.docs)
    return 0


def render(results: dict[str, dict[str, Any]], argv: list[str] | None) -> str:
    """The markdown table of every protocol run so far."""
    lines = [
        "## Few-shot intents without out-of-scope training data (`benchmarks/fewshot.py`)",
        "",
        "Trained and scored as `shopintent train --data train.csv --oos-label oos` and "
        "`shopintent evaluate ... --oos-label oos --json` do; no out-of-scope example in "
        "training. Accuracy counts out-of-scope as a class; in-scope accuracy counts a "
        "rejected in-scope message as wrong.",
        "",
        "| protocol | method | accuracy | in-scope acc | OOS recall | OOS precision | train s |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, res in results.items():
        label = (
            f"{name} ({res['intents']} intents, {res['train']} train, "
            f"{res['test']} test of which {res['test_oos']} OOS)"
        )
        for method, row in res["rows"].items():
            if method not in ROW_NAMES:
                continue
            seconds = row.get("train_seconds")
            lines.append(
                f"| {label} | {method} | {fmt(row['accuracy'])} | "
                f"{fmt(row['in_scope_accuracy'])} | {fmt(row['oos_recall'])} | "
                f"{fmt(row['oos_precision'])} | {'' if seconds is None else f'{seconds:.0f}'} |"
            )
            label = ""
    lines += [
        "",
        f"Machine: {machine()}; run {time.strftime('%Y-%m-%d')}. Training seconds include calibration and, for small "
        "data, the second run on train + validation.",
        "",
        "Command: `"
        + command_line("fewshot.py", [a for a in (argv or sys.argv[1:]) if a != "--report"])
        + "` (`--only NAME ...` runs some protocols; `--report` rewrites this table).",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
