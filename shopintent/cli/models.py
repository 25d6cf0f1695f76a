"""`shopintent models list|show|promote|export|rollback|register` and `shopintent retrain`.

Heavy imports (torch, transformers) happen inside the handlers, so `--help` stays fast.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from core.paths import DEFAULT_DATA_DIR
from shopintent.cli.common import (
    DEFAULT_ANNOTATIONS,
    DEFAULT_MODEL,
    Subparsers,
    add_command,
    add_data_paths,
    add_group,
    add_registry,
)

DEFAULT_TRAIN_DATA = f"{DEFAULT_DATA_DIR}/nlu"


def register(sub: Subparsers) -> None:
    """Add the `models` command group and the `retrain` command."""
    _register_models(sub)
    _register_retrain(sub)


def _register_models(sub: Subparsers) -> None:
    """List, inspect, promote and roll back model versions.

    The model registry: one folder per version under models/versions/ and models/registry.json
    pointing at the version that serves. A running bot switches to a newly promoted version within
    seconds, without a restart.
    """
    commands = add_group(sub, "models", _register_models.__doc__)
    listing = add_command(commands, run_list)
    add_registry(listing)

    show = add_command(commands, run_show)
    show.add_argument("version", metavar="VERSION")
    add_registry(show)

    promote = add_command(commands, run_promote)
    promote.add_argument("version", metavar="VERSION")
    add_registry(promote)

    export = add_command(commands, run_export)
    export.add_argument(
        "--model", type=Path, required=True, help="model folder written by `shopintent train`"
    )
    add_data_paths(
        export,
        help="training data to carve the check messages from (default: what the model names)",
    )

    rollback = add_command(commands, run_rollback)
    add_registry(rollback)

    add = add_command(commands, run_register)
    add.add_argument("folder", type=Path, metavar="DIR")
    add.add_argument("--promote", action="store_true", help="also make it the serving model")
    add_registry(add)


def _register_retrain(sub: Subparsers) -> None:
    p = add_command(sub, run_retrain)
    add_data_paths(
        p, help=f"base training data (default: the --config file's, else {DEFAULT_TRAIN_DATA})"
    )
    p.add_argument(
        "--annotations",
        nargs="*",
        type=Path,
        default=[DEFAULT_ANNOTATIONS],
        metavar="FILE",
        help="reviewed turns to add (default: %(default)s; missing files are skipped)",
    )
    p.add_argument(
        "--test-data",
        type=Path,
        default=Path("training_data/test"),
        metavar="PATH",
        help="fixed test split (default: %(default)s)",
    )
    add_registry(p)
    p.add_argument(
        "--baseline",
        type=Path,
        default=DEFAULT_MODEL,
        metavar="DIR",
        help="model serving while the registry is empty (default: %(default)s)",
    )
    p.add_argument(
        "--max-test-drop",
        type=float,
        default=0.01,
        metavar="X",
        help="largest allowed fall of the test macro-F1 (default: %(default)s)",
    )
    p.add_argument(
        "--min-annotated-gain",
        type=float,
        default=0.0,
        metavar="X",
        help="least required rise of the annotated-turns accuracy (default: %(default)s)",
    )
    p.add_argument(
        "--no-promote",
        dest="promote",
        action="store_false",
        help="score and register the candidate, but never promote it",
    )
    p.add_argument(
        "--warm-start",
        action="store_true",
        help="fine-tune the serving model (same intents) instead of the base encoder: faster",
    )
    p.add_argument(
        "--annotation-repeat",
        type=int,
        default=1,
        metavar="N",
        help="how often each annotated turn enters the training data (default: %(default)s)",
    )
    p.add_argument("--config", type=Path, metavar="JSON", help="training settings file")
    p.add_argument("--epochs", type=float, help="training epochs")
    p.add_argument("--max-steps", type=int, help="stop after N steps")
    p.add_argument("--num-hidden-layers", type=int, help="keep only the first N encoder layers")
    p.add_argument("--seed", type=int, help="random seed")
    p.add_argument("--base-model", help="base encoder folder or hub id")
    p.add_argument("--num-threads", type=int, help="CPU threads for torch")


# -- handlers ------------------------------------------------------------------------


def run_list(args: argparse.Namespace) -> int:
    """List the versions, newest last."""
    from nlu.registry import Registry

    registry = Registry(args.registry)
    state = registry.load()
    if not state.versions:
        print(f"no model versions in {registry.root}; run `shopintent retrain`")
        return 0
    rows = [("", "VERSION", "STATUS", "SOURCE", "TEST MACRO-F1", "CREATED")]
    for entry in sorted(state.versions.values(), key=lambda v: v.version):
        f1 = entry.metrics.get("test_macro_f1")
        rows.append(
            (
                "*" if entry.version == state.current else "",
                entry.version,
                entry.status,
                entry.source,
                f"{f1:.4f}" if f1 is not None else "-",
                entry.created_at,
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    return 0


def run_show(args: argparse.Namespace) -> int:
    """Show one version's details and metrics."""
    from dataclasses import asdict

    from nlu.artifact import ArtifactMeta
    from nlu.registry import Registry

    registry = Registry(args.registry)
    entry = registry.get(args.version)
    info: dict[str, Any] = asdict(entry)
    info["serving"] = registry.load().current == entry.version
    folder = registry.root / entry.path
    try:
        meta = ArtifactMeta.load(folder)
        info["artifact"] = {
            "base_model": meta.base_model,
            "labels": len(meta.labels),
            "decision": asdict(meta.decision),
            "validation": meta.validation,
            "train_seconds": meta.train_seconds,
        }
    except Exception as exc:  # show what is known even when the folder is damaged
        info["artifact_error"] = str(exc)
    print(json.dumps(info, indent=2, ensure_ascii=False))
    return 0


def run_promote(args: argparse.Namespace) -> int:
    """Make VERSION the serving model (no gate: you decide)."""
    from nlu.registry import Registry

    entry = Registry(args.registry).promote(args.version)
    print(f"promoted {entry.version}; running bots switch to it within seconds")
    return 0


def run_rollback(args: argparse.Namespace) -> int:
    """Serve the previously promoted version again."""
    from nlu.registry import Registry

    entry = Registry(args.registry).rollback()
    print(f"rolled back: {entry.version} serves again")
    return 0


def run_register(args: argparse.Namespace) -> int:
    """Copy a trained model folder into the registry.

    Copy a model folder (from `shopintent train`) into the registry as a candidate; pass --promote
    to serve it at once.
    """
    from nlu.registry import Registry

    registry = Registry(args.registry)
    entry = registry.register(args.folder, source="register")
    print(f"registered {args.folder} as {entry.version}")
    if args.promote:
        registry.promote(entry.version)
        print(f"promoted {entry.version}")
    return 0


def run_export(args: argparse.Namespace) -> int:
    """Write model.onnx and model.int8.onnx into a model folder (older artifacts).

    Export a trained model to ONNX and int8 ONNX for fast CPU serving, check both against PyTorch on
    the validation part of its training data, and record the files and the check in its
    shopintent.json. Training does this already.
    """
    from nlu.export import export_artifact

    info = export_artifact(args.model, args.data)
    for backend, check in info["checks"].items():
        verdict = "passed" if check["passed"] else "FAILED: `auto` serves PyTorch"
        print(
            f"{args.model / info['files'][backend]}: {check['agreement']:.1%} same intent as "
            f"PyTorch on {check['n']} messages, top confidence within "
            f"{check['p99_confidence_diff']:.3f} for 99 % (at most "
            f"{check['max_confidence_diff']:.3f}) ({verdict})"
        )
    return 0


def run_retrain(args: argparse.Namespace) -> int:
    """Train on the data plus reviewed turns; promote only if the gate allows.

    Train a candidate on the training data plus the annotated turns
    (`shopintent review export`), score it and the serving model on the fixed test split and
    on the annotated turns, print both side by side, and promote the candidate only when the
    test metric fell by at most --max-test-drop and the annotated metric did not fall (or
    rose by --min-annotated-gain). Otherwise the old model keeps serving. Exit code 0 when
    promoted, 1 when refused.
    """
    from nlu.config import TrainConfig
    from nlu.retrain import GateConfig, RetrainConfig, retrain, verdict_text

    overrides = {
        "data": args.data,
        "epochs": args.epochs,
        "max_steps": args.max_steps,
        "num_hidden_layers": args.num_hidden_layers,
        "seed": args.seed,
        "base_model": args.base_model,
        "num_threads": args.num_threads,
    }
    if args.config:
        train_config = TrainConfig.from_json(args.config, **overrides)
    else:
        overrides["data"] = args.data or [DEFAULT_TRAIN_DATA]
        train_config = TrainConfig(**{k: v for k, v in overrides.items() if v is not None})
    config = RetrainConfig(
        train=train_config,
        annotations=list(args.annotations),
        test_data=args.test_data,
        registry=args.registry,
        baseline=args.baseline,
        gate=GateConfig(
            max_test_drop=args.max_test_drop, min_annotated_gain=args.min_annotated_gain
        ),
        promote=args.promote,
        warm_start=args.warm_start,
        annotation_repeat=args.annotation_repeat,
    )
    result = retrain(config)
    print()
    print(result.table)
    print()
    print(verdict_text(result))
    return 0 if result.decision.promote else 1
