"""`shopintent train`, `shopintent predict` and `shopintent evaluate`.

The `train` flags are generated from the `TrainConfig` dataclass, so the CLI, the
JSON config file and the Python API always offer the same settings. Heavy
imports (torch, transformers) happen inside the handlers.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from core.paths import ARTIFACT_FILE
from nlu.config import DEFAULT_DATA, TrainConfig, get_settings
from shopintent.cli.common import (
    Subparsers,
    add_columns,
    add_command,
    add_data_paths,
    add_dataclass_flags,
    add_json,
    add_model,
    given,
)


def register(sub: Subparsers) -> None:
    """Add the `train`, `predict` and `evaluate` commands."""
    train = add_command(sub, run_train)
    train.add_argument(
        "--config", type=Path, help="JSON file of settings (the flags below override it)"
    )
    add_dataclass_flags(train, TrainConfig, TrainConfig.defaults())

    predict = add_command(sub, run_predict)
    predict.add_argument("text", nargs="+", help="message(s) to classify")
    add_model(predict)
    add_backend(predict)

    evaluate = add_command(sub, run_evaluate)
    add_model(evaluate)
    add_data_paths(
        evaluate,
        default=[DEFAULT_DATA],
        help=f"labelled data: Rasa YAML, CSV or JSONL (default: {DEFAULT_DATA})",
    )
    evaluate.add_argument(
        "--oos-label", default=None, help="label of out-of-scope examples (default: the model's)"
    )
    evaluate.add_argument(
        "--out", type=Path, default=None, help="report folder (default: reports/<model-name>)"
    )
    add_json(evaluate, help="print one JSON object instead of the table")
    add_columns(
        evaluate, text="CSV/JSONL text column", label="CSV/JSONL label column", metavar=False
    )
    evaluate.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    add_backend(evaluate)


def add_backend(parser: argparse.ArgumentParser) -> None:
    """`--backend`: the inference backend (PyTorch, ONNX, int8 ONNX or auto)."""
    from nlu.backends import BACKENDS

    parser.add_argument(
        "--backend",
        choices=BACKENDS,
        default=None,
        help="inference backend (default: SHOPINTENT_NLU_BACKEND or auto, as serving picks)",
    )


def _model_dir(arg: Path | None) -> Path:
    return arg if arg is not None else Path(get_settings().model_dir)


def run_train(args: argparse.Namespace) -> int:
    """Fine-tune the intent classifier and save a model artifact.

    Fine-tune a transformer intent classifier (Hugging Face Trainer; runs under
    `accelerate launch`/`torchrun` too), calibrate its confidences and choose the
    out-of-scope rejection threshold on a validation part of the training data, then save
    the model with its shopintent.json.
    """
    from nlu.training import train

    overrides = given(args, TrainConfig)
    if args.config is not None:
        config = TrainConfig.from_json(args.config, **overrides)
    else:
        config = TrainConfig(**overrides)
    started = time.perf_counter()
    out = train(config)
    elapsed = time.perf_counter() - started
    meta_path = out / ARTIFACT_FILE
    if meta_path.is_file():
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        val = meta["validation"]
        rule = meta["decision"]
        print(
            f"saved {out} ({len(meta['labels'])} intents, version {meta['model_version']}) "
            f"in {elapsed:.0f} s"
        )
        oos = f", OOS recall {100 * val['oos_recall']:.1f} %" if "oos_recall" in val else ""
        print(
            f"validation: in-scope accuracy {100 * val['in_scope_accuracy']:.1f} %"
            f"{oos}, ECE {100 * val['ece']:.2f} %; rejection: {rule['oos_method']} "
            f"threshold {rule['threshold']:.4g} ({rule['threshold_source']}), "
            f"temperature {rule['temperature']:.3f}"
        )
    return 0


def run_predict(args: argparse.Namespace) -> int:
    """Print the NLU parse result of messages as JSON.

    Classify messages with a trained model and print Rasa's parse result (intent, intent_ranking,
    entities) as JSON; one object for one message, a list for several.
    """
    from nlu.classifier import IntentClassifier

    clf = IntentClassifier.load(_model_dir(args.model), backend=args.backend)
    results = clf.parse_batch(args.text)
    payload: Any = results[0] if len(results) == 1 else results
    json.dump(payload, sys.stdout, indent=2, ensure_ascii=False)
    print()
    return 0


def run_evaluate(args: argparse.Namespace) -> int:
    """Score a model on labelled data: reports, plots, summary.

    Evaluate a model on labelled data (the test split when the path has a test/ folder). Writes
    intent_report.json, intent_errors.json, intent_confusion_matrix.png, intent_histogram.png and
    reliability_diagram.png, and prints a summary. An out-of-scope message counts as right when
    rejected.
    """
    from nlu.evaluation import evaluate, format_summary

    model = _model_dir(args.model)
    out = args.out if args.out is not None else Path("reports") / model.resolve().name
    result = evaluate(
        model,
        args.data,
        oos_label=args.oos_label,
        out_dir=out,
        text_column=args.text_column,
        label_column=args.label_column,
        plots=not args.no_plots,
        backend=args.backend,
    )
    if args.json:
        print(json.dumps(result.summary))
    else:
        print(f"model {model}, data {' '.join(args.data)}")
        print(format_summary(result.summary))
        print(f"reports written to {out}/")
    return 0
