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
from dataclasses import fields
from pathlib import Path
from typing import Any

from core.paths import ARTIFACT_FILE
from nlu.config import DEFAULT_DATA, TrainConfig, get_settings

# Flag spelling where it differs from the field name.
_FLAG_NAMES = {"output_dir": "--output"}


def register(sub: Any) -> None:
    """Add the `train`, `predict` and `evaluate` subcommands."""
    _register_train(sub)
    _register_predict(sub)
    _register_evaluate(sub)


def _register_train(sub: Any) -> None:
    p = sub.add_parser(
        "train",
        help="fine-tune the intent classifier and save a model artifact",
        description=(
            "Fine-tune a transformer intent classifier (Hugging Face Trainer; runs under "
            "`accelerate launch`/`torchrun` too), calibrate its confidences and choose the "
            "out-of-scope rejection threshold on a validation part of the training data, "
            "then save the model with its shopintent.json."
        ),
    )
    p.add_argument(
        "--config", type=Path, help="JSON file of settings (the flags below override it)"
    )
    defaults = TrainConfig.defaults()
    for f in fields(TrainConfig):
        flag = _FLAG_NAMES.get(f.name, "--" + f.name.replace("_", "-"))
        kind = str(f.type)
        kwargs: dict[str, Any] = {
            "dest": f.name,
            "default": None,
            "help": f.metadata.get("help", "")
            + ("" if defaults[f.name] is None else f" (default: {defaults[f.name]})"),
        }
        if kind.startswith("list["):
            kwargs.update(nargs="+", metavar="PATH")
        elif kind.startswith("bool"):
            kwargs["action"] = argparse.BooleanOptionalAction
        elif kind.startswith("int"):
            kwargs["type"] = int
        elif kind.startswith("float"):
            kwargs["type"] = float
        else:
            kwargs["type"] = str
        p.add_argument(flag, **kwargs)
    p.set_defaults(func=run_train)


def _register_predict(sub: Any) -> None:
    p = sub.add_parser(
        "predict",
        help="print the NLU parse result of messages as JSON",
        description=(
            "Classify messages with a trained model and print Rasa's parse result "
            "(intent, intent_ranking, entities) as JSON; one object for one message, a "
            "list for several."
        ),
    )
    p.add_argument("text", nargs="+", help="message(s) to classify")
    p.add_argument(
        "--model", type=Path, default=None, help="model directory (default: models/default)"
    )
    _add_backend_option(p)
    p.set_defaults(func=run_predict)


def _register_evaluate(sub: Any) -> None:
    p = sub.add_parser(
        "evaluate",
        help="score a model on labelled data: reports, plots, summary",
        description=(
            "Evaluate a model on labelled data (the test split when the path has a test/ "
            "folder). Writes intent_report.json, intent_errors.json, "
            "intent_confusion_matrix.png, intent_histogram.png and reliability_diagram.png, "
            "and prints a summary. An out-of-scope message counts as right when rejected."
        ),
    )
    p.add_argument(
        "--model", type=Path, default=None, help="model directory (default: models/default)"
    )
    p.add_argument(
        "--data",
        nargs="+",
        default=[DEFAULT_DATA],
        metavar="PATH",
        help=f"labelled data: Rasa YAML, CSV or JSONL (default: {DEFAULT_DATA})",
    )
    p.add_argument(
        "--oos-label", default=None, help="label of out-of-scope examples (default: the model's)"
    )
    p.add_argument(
        "--out", type=Path, default=None, help="report folder (default: reports/<model-name>)"
    )
    p.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    p.add_argument("--text-column", default=None, help="CSV/JSONL text column")
    p.add_argument("--label-column", default=None, help="CSV/JSONL label column")
    p.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    _add_backend_option(p)
    p.set_defaults(func=run_evaluate)


def _add_backend_option(p: argparse.ArgumentParser) -> None:
    from nlu.backends import BACKENDS

    p.add_argument(
        "--backend",
        choices=BACKENDS,
        default=None,
        help="inference backend (default: SHOPINTENT_NLU_BACKEND or auto, as serving picks)",
    )


def _model_dir(arg: Path | None) -> Path:
    return arg if arg is not None else Path(get_settings().model_dir)


def run_train(args: argparse.Namespace) -> int:
    """Handle `shopintent train`."""
    from nlu.training import train

    overrides = {f.name: getattr(args, f.name) for f in fields(TrainConfig)}
    if args.config is not None:
        config = TrainConfig.from_json(args.config, **overrides)
    else:
        config = TrainConfig(**{k: v for k, v in overrides.items() if v is not None})
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
    """Handle `shopintent predict`."""
    from nlu.classifier import IntentClassifier

    clf = IntentClassifier.load(_model_dir(args.model), backend=args.backend)
    results = clf.parse_batch(args.text)
    payload: Any = results[0] if len(results) == 1 else results
    json.dump(payload, sys.stdout, indent=2, ensure_ascii=False)
    print()
    return 0


def run_evaluate(args: argparse.Namespace) -> int:
    """Handle `shopintent evaluate`."""
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
