"""Helpers shared by the NLU benchmark scripts (CLINC150, BANKING77, OOS methods).

Not a test module: the scripts print numbers and rewrite their own section of
docs/benchmarks.md between `<!-- begin:NAME -->` and `<!-- end:NAME -->`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "benchmarks.md"
DOCS_HEADER = """# Benchmarks

Measured numbers and the commands that produce them. Each benchmark script rewrites
only its own section (between `<!-- begin:NAME -->` and `<!-- end:NAME -->`).
"""


def add_training_flags(parser: argparse.ArgumentParser, **defaults: Any) -> None:
    """Add the training flags every NLU benchmark accepts."""
    parser.add_argument("--epochs", type=float, default=defaults.get("epochs", 5.0))
    parser.add_argument("--learning-rate", type=float, default=defaults.get("learning_rate", 1e-4))
    parser.add_argument("--batch-size", type=int, default=defaults.get("batch_size", 32))
    parser.add_argument("--max-length", type=int, default=defaults.get("max_length", 64))
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--device", choices=["auto", "cpu", "cuda"], default="auto", help="auto: GPU when present"
    )
    parser.add_argument(
        "--limit-per-intent", type=int, default=None, help="train on at most N examples per intent"
    )
    parser.add_argument(
        "--test-limit-per-intent", type=int, default=None, help="test on at most N per intent"
    )
    parser.add_argument("--num-hidden-layers", type=int, default=None)
    parser.add_argument("--num-threads", type=int, default=None, help="CPU threads for torch")
    parser.add_argument("--base-model", default=None)
    parser.add_argument(
        "--no-freeze-embeddings", action="store_true", help="also fine-tune the word embeddings"
    )
    parser.add_argument("--out", type=Path, default=None, help="folder for the model and reports")
    parser.add_argument("--docs", type=Path, default=DOCS, help="markdown file to update")
    parser.add_argument("--no-docs", action="store_true", help="print only")


def nlu_parser(doc: str, data_help: str, **defaults: Any) -> argparse.ArgumentParser:
    """The flags of a train-and-evaluate benchmark: `--data`, `--oos-method`, the training ones.

    Args:
        doc: The script's docstring; its first line is the `--help` description.
        data_help: What `--data` names.
        **defaults: The training defaults, as `add_training_flags` takes them.

    Returns:
        The parser; the script adds its own flags, if any.
    """
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help=data_help)
    parser.add_argument("--oos-method", default="knn", choices=["softmax", "mahalanobis", "knn"])
    add_training_flags(parser, **defaults)
    return parser


def train_config_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    """TrainConfig keyword arguments from the common flags (bf16 on a capable GPU)."""
    import torch

    use_cuda = args.device != "cpu" and torch.cuda.is_available()
    return {
        "epochs": args.epochs,
        "learning_rate": args.learning_rate,
        "batch_size": args.batch_size,
        "max_length": args.max_length,
        "seed": args.seed,
        "device": "cuda" if use_cuda else "cpu",
        "bf16": bool(use_cuda and torch.cuda.is_bf16_supported()),
        "num_hidden_layers": args.num_hidden_layers,
        "num_threads": args.num_threads,
        "base_model": args.base_model,
        "freeze_embeddings": not args.no_freeze_embeddings,
    }


def limit_per_intent(
    texts: Sequence[str],
    labels: Sequence[str],
    limit: int | None,
    seed: int,
    keep_all: Sequence[str] = (),
) -> tuple[list[str], list[str]]:
    """Keep at most `limit` examples of each intent (seeded), in the original order.

    Intents in `keep_all` (e.g. CLINC's `oos`, one label for a tenth of the data)
    keep every example, so a subset run still measures OOS recall on many messages.
    """
    if limit is None:
        return list(texts), list(labels)
    rng = np.random.default_rng(seed)
    by_label: dict[str, list[int]] = defaultdict(list)
    for i, label in enumerate(labels):
        by_label[label].append(i)
    keep: list[int] = []
    for label, idx in by_label.items():
        if label in keep_all:
            keep.extend(idx)
            continue
        chosen = rng.choice(len(idx), size=min(limit, len(idx)), replace=False)
        keep.extend(idx[int(c)] for c in chosen)
    keep.sort()
    return [texts[i] for i in keep], [labels[i] for i in keep]


def train_config(args: argparse.Namespace, out: Path, **fields: Any) -> Any:
    """The run's `TrainConfig`: `--data`, `--oos-method`, the common flags and `fields`.

    The model goes to `out/model`.
    """
    from nlu.config import TrainConfig

    return TrainConfig(
        data=[str(args.data)],
        output_dir=str(out / "model"),
        oos_method=args.oos_method,
        **fields,
        **train_config_kwargs(args),
    )


def train_timed(config: Any, data: Any) -> tuple[Any, float]:
    """Train with `config` on `data` (a `TrainingData`); return the loaded model and the seconds."""
    from nlu.classifier import IntentClassifier
    from nlu.training import train

    started = time.perf_counter()
    model_dir = train(config, data)
    train_seconds = time.perf_counter() - started
    return IntentClassifier.load(model_dir), train_seconds


def parse_latency(
    clf: Any, texts: Sequence[str], n: int = 200, *, quantile: float = 0.95, warmup: int = 5
) -> tuple[float, float]:
    """Return p50 and the `quantile` (default p95) in milliseconds of `clf.parse` on single
    messages, after parsing the first `warmup` texts untimed."""
    for text in texts[:warmup]:
        clf.parse(text)
    timings = []
    for i in range(n):
        started = time.perf_counter()
        clf.parse(texts[i % len(texts)])
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    return statistics.median(timings), timings[int(quantile * (len(timings) - 1))]


def machine() -> str:
    """A one-line description of the machine the numbers come from."""
    import torch

    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
    return (
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPU cores, {gpu}, "
        f"torch {torch.__version__}, {torch.get_num_threads()} torch threads"
    )


def pct(value: float | None) -> str:
    """Format a 0-1 fraction as a percentage, `n/a` when missing."""
    return "n/a" if value is None else f"{100 * value:.1f}"


def command_line(script: str, argv: Sequence[str] | None = None) -> str:
    """The command that reproduces this run, with data paths shown as `PATH/...`."""
    args = list(sys.argv[1:] if argv is None else argv)
    shown: list[str] = []
    skip = False
    for i, arg in enumerate(args):
        if skip:
            skip = False
            continue
        if arg in ("--out", "--docs"):
            skip = True
            continue
        if i > 0 and args[i - 1] == "--data":
            arg = "PATH/" + Path(arg).name
        shown.append(arg)
    return " ".join(["python", f"benchmarks/{script}", *shown])


def run_results(
    scores: dict[str, Any],
    config: Any,
    train_seconds: float,
    p50: float,
    p95: float,
    **extra: Any,
) -> dict[str, Any]:
    """The numbers of a run: its scores, training time, `parse` latency, `extra`, config, machine.

    Args:
        scores: The evaluation summary (and any score the script adds).
        config: The `TrainConfig` of the run.
        train_seconds: Wall-clock seconds of training.
        p50: Median `parse` latency in milliseconds.
        p95: 95th percentile `parse` latency in milliseconds.
        **extra: More fields, after the latency.

    Returns:
        The dict `save_results` writes.
    """
    return {
        **scores,
        "train_seconds": round(train_seconds, 1),
        "parse_p50_ms": round(p50, 2),
        "parse_p95_ms": round(p95, 2),
        **extra,
        "config": config.to_dict(),
        "machine": machine(),
    }


def save_results(out: Path, numbers: dict[str, Any]) -> None:
    """Write `numbers` to `out/results.json` and print them, config left out."""
    (out / "results.json").write_text(json.dumps(numbers, indent=2) + "\n")
    print(json.dumps({k: v for k, v in numbers.items() if k != "config"}, indent=2))


def run_footer(
    config: Any,
    train_seconds: float,
    p50: float,
    p95: float,
    script: str,
    argv: Sequence[str] | None = None,
) -> str:
    """The markdown under a benchmark's table: training run, latency, machine, command.

    Args:
        config: The `TrainConfig` of the run.
        train_seconds: Wall-clock seconds of training.
        p50: Median `parse` latency in milliseconds.
        p95: 95th percentile `parse` latency in milliseconds.
        script: File name of the benchmark script, e.g. `clinc150.py`.
        argv: The script's arguments (`sys.argv[1:]` when None).

    Returns:
        The lines, ending with a newline.
    """
    schedule = "auto" if config.epochs is None else f"{config.epochs:g}"
    return f"""Training: {train_seconds:.0f} s for {schedule} epochs (batch {config.batch_size},
lr {config.learning_rate:g}, device {config.device}{", bf16" if config.bf16 else ""}).
`parse` latency of one message on CPU: p50 {p50:.1f} ms, p95 {p95:.1f} ms.
Machine: {machine()}.

Command: `{command_line(script, argv)}`
"""


def write_section(name: str, markdown: str, path: Path = DOCS) -> None:
    """Replace the `name` section of the benchmarks page (appending it when new)."""
    begin, end = f"<!-- begin:{name} -->", f"<!-- end:{name} -->"
    text = path.read_text(encoding="utf-8") if path.exists() else DOCS_HEADER
    block = f"{begin}\n{markdown.strip()}\n{end}"
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        _, tail = rest.split(end, 1)
        text = head + block + tail
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    print(f"updated section {name!r} of {path}")
