"""Which out-of-scope rejection method to ship: a measurement on CLINC150.

Trains two models on CLINC150: one WITH the `oos` training queries as a class and
one WITHOUT any OOS data. For each it compares rejection rules, every threshold
chosen on the validation split only (`val` + `oos_val`, or the in-scope `val`
alone for the "no OOS data" rows), and reports test in-scope accuracy and OOS
recall:

- OOS class only (argmax), no threshold
- softmax: calibrated top probability below a threshold
- mahalanobis: distance of the mean-pooled features to the nearest class centroid
- knn: mean cosine similarity to the 10 nearest training examples

    python benchmarks/oos_methods.py --data PATH/data_full.json [--epochs 8]
    python benchmarks/oos_methods.py --data PATH/data_full.json --limit-per-intent 10 --epochs 1
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.clinc150 import OOS, load_clinc
from benchmarks.nlu_common import (
    add_training_flags,
    command_line,
    limit_per_intent,
    machine,
    pct,
    train_config_kwargs,
    write_section,
)


@dataclass
class Row:
    training: str
    method: str
    threshold_from: str
    in_scope_accuracy: float
    oos_recall: float
    oos_precision: float
    accuracy: float


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="CLINC150 data_full.json")
    parser.add_argument("--target-rejection", type=float, default=0.03)
    add_training_flags(parser, epochs=8.0, learning_rate=1e-4, batch_size=32, max_length=48)
    args = parser.parse_args(argv)

    from nlu.calibration import OosStats, fit_temperature, softmax, tune_threshold
    from nlu.classifier import forward
    from nlu.config import TrainConfig
    from nlu.training import (
        LabelledTexts,
        build_model,
        calibration_inputs,
        configure_threads,
        fit_model,
        prepare_data,
        set_seed_everywhere,
    )

    splits = load_clinc(args.data)
    tr_x, tr_y = limit_per_intent(*splits["train"], args.limit_per_intent, args.seed, [OOS])
    va_x, va_y = limit_per_intent(*splits["val"], args.limit_per_intent, args.seed, [OOS])
    te_x, te_y = limit_per_intent(*splits["test"], args.test_limit_per_intent, args.seed, [OOS])
    rows: list[Row] = []
    timings: dict[str, float] = {}
    out = args.out or Path("runs/oos_methods")
    out.mkdir(parents=True, exist_ok=True)

    for training in ("with OOS class", "without OOS data"):
        with_oos = training == "with OOS class"
        keep_tr = [i for i, y in enumerate(tr_y) if with_oos or y != OOS]
        keep_va = [i for i, y in enumerate(va_y) if with_oos or y != OOS]
        config = TrainConfig(
            data=[str(args.data)], oos_label=OOS, output_dir=str(out), **train_config_kwargs(args)
        )
        data = prepare_data(
            LabelledTexts([tr_x[i] for i in keep_tr], [tr_y[i] for i in keep_tr]),
            validation_fraction=config.validation_fraction,
            seed=config.seed,
            validation=LabelledTexts([va_x[i] for i in keep_va], [va_y[i] for i in keep_va]),
        )
        configure_threads(config.num_threads)
        set_seed_everywhere(config.seed)
        started = time.perf_counter()
        model, tokenizer = build_model(config, data.labels)
        with tempfile.TemporaryDirectory() as workdir:
            fit_model(config, model, tokenizer, data, workdir)
        timings[training] = time.perf_counter() - started
        pooling = config.pooling
        inputs = calibration_inputs(
            model, tokenizer, data, config.max_length, per_intent=10**6, pooling=pooling
        )
        val_all = forward(
            model, tokenizer, va_x, max_length=config.max_length, features=True, pooling=pooling
        )
        test_all = forward(
            model, tokenizer, te_x, max_length=config.max_length, features=True, pooling=pooling
        )

        index = {name: i for i, name in enumerate(data.labels)}
        oos_index = index.get(OOS, len(data.labels))  # a label id the model never predicts
        y_va = np.array([index.get(y, oos_index) for y in va_y])
        y_te = np.array([index.get(y, oos_index) for y in te_y])
        in_va = y_va != oos_index
        temperature = fit_temperature(val_all.logits[in_va | with_oos], y_va[in_va | with_oos])
        p_va, p_te = softmax(val_all.logits, temperature), softmax(test_all.logits, temperature)
        keep = inputs.train_labels != oos_index
        stats = OosStats.fit(inputs.train_features[keep], inputs.train_labels[keep])
        knn = stats.with_bank(inputs.train_features[keep])
        assert val_all.features is not None and test_all.features is not None
        scores = {
            "softmax": (p_va.max(1), p_te.max(1)),
            "mahalanobis": (
                -stats.distances(val_all.features),
                -stats.distances(test_all.features),
            ),
            "knn": (
                knn.knn_similarity(val_all.features),
                knn.knn_similarity(test_all.features),
            ),
        }
        plans: list[tuple[str, str | None, bool]] = []
        if with_oos:
            plans.append(("OOS class only", None, True))
        for key in scores:
            plans.append((key, key, True))
            plans.append((key, key, False))
        for name, method, use_oos_val in plans:
            top_va, top_te = p_va.argmax(1), p_te.argmax(1)
            if method is None:
                threshold, source = -np.inf, "none"
                s_te = np.zeros(len(te_x))
            else:
                s_va, s_te = scores[method]
                mask = np.ones(len(y_va), bool) if use_oos_val else in_va
                choice = tune_threshold(
                    s_va[mask],
                    y_va[mask],
                    top_va[mask],
                    oos_index,
                    args.target_rejection,
                    config.max_in_scope_rejection,
                )
                threshold = choice.threshold
                source = (
                    "val + oos_val"
                    if use_oos_val
                    else f"in-scope val ({100 * args.target_rejection:.0f} % rejected)"
                )
            rejected = (s_te < threshold) | (top_te == oos_index)
            is_oos = y_te == oos_index
            right_in = (top_te == y_te) & ~rejected & ~is_oos
            rows.append(
                Row(
                    training=training,
                    method=name,
                    threshold_from=source,
                    in_scope_accuracy=float(right_in[~is_oos].mean()),
                    oos_recall=float(rejected[is_oos].mean()),
                    oos_precision=float(is_oos[rejected].mean()) if rejected.any() else 0.0,
                    accuracy=float((right_in | (rejected & is_oos)).mean()),
                )
            )
            r = rows[-1]
            print(
                f"{training:17} {name:15} {source:32} in-scope {100 * r.in_scope_accuracy:5.1f} "
                f"OOS recall {100 * r.oos_recall:5.1f} precision {100 * r.oos_precision:5.1f}"
            )

    (out / "oos_methods.json").write_text(
        json.dumps({"rows": [r.__dict__ for r in rows], "train_seconds": timings}, indent=2) + "\n"
    )
    table = "\n".join(
        f"| {r.training} | {r.method} | {r.threshold_from} | {pct(r.in_scope_accuracy)} | "
        f"{pct(r.oos_recall)} | {pct(r.oos_precision)} | {pct(r.accuracy)} |"
        for r in rows
    )
    subset = (
        f" (subset: {args.limit_per_intent} per intent, every `oos` query kept)"
        if args.limit_per_intent
        else ""
    )
    md = f"""## Out-of-scope rejection methods (CLINC150)

Same fine-tuned MiniLM-L6, different rejection rules; every threshold chosen on the
validation split, numbers on `test` + `oos_test`{subset}. {args.epochs:g} epochs, device
{"cuda" if train_config_kwargs(args)["device"] == "cuda" else "cpu"};
training took {", ".join(f"{k}: {v:.0f} s" for k, v in timings.items())}.

| training data | rejection | threshold chosen on | in-scope acc | OOS recall | OOS precision | accuracy (all) |
|---|---|---|---|---|---|---|
{table}

Machine: {machine()}.

Command: `{command_line("oos_methods.py", argv)}`
"""
    if not args.no_docs:
        write_section("oos_methods", md, args.docs)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
