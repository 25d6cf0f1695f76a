"""Training at scale: `accelerate launch` of two CPU processes writes the artifact once.

accelerate's `--cpu` flag starts a single process (several CPU processes need MPI), so
the two processes come from `--multi_gpu`, the torchrun launcher; with no CUDA device
visible `nlu.training.fit_model` joins them over gloo.
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import free_port

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        importlib.util.find_spec("accelerate") is None,
        reason="accelerate is not installed: `pip install accelerate` to test distributed training",
    ),
]

# One epoch, so the 2-process run takes exactly half the optimizer steps (rounded up).
# Refit stays on (tiny data): the second Trainer, started while rank 0 calibrates, is the
# part of a distributed run most likely to hang or diverge.
TRAIN_ARGS = (
    "--num-hidden-layers",
    "1",
    "--epochs",
    "1",
    "--batch-size",
    "8",
    "--max-length",
    "32",
    "--validation-fraction",
    "0.2",
    "--seed",
    "13",
    "--num-threads",
    "1",
    "--refit",
    "--no-onnx",  # the export is tested in test_backends.py
)


def _environment() -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        # CPU processes on any machine; `--device auto` must then pick gloo by itself.
        CUDA_VISIBLE_DEVICES="",
        OMP_NUM_THREADS="1",
        TOKENIZERS_PARALLELISM="false",
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        HF_DATASETS_OFFLINE="1",
    )
    return env


def _run(command: list[str]) -> str:
    """Run `command`; return its standard output (both ranks' under a launcher)."""
    result = subprocess.run(
        command, env=_environment(), capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, (
        f"{' '.join(command)} exited {result.returncode}:\n{result.stdout[-3000:]}\n"
        f"{result.stderr[-6000:]}"
    )
    return result.stdout


def _shape(artifact: Path) -> dict[str, Any]:
    from safetensors import safe_open
    from transformers import AutoConfig

    config = AutoConfig.from_pretrained(artifact)
    with safe_open(str(artifact / "model.safetensors"), "pt") as weights:
        names = weights.keys()  # a safetensors handle, not a dict: no `in weights`
        tensors = {name: tuple(weights.get_slice(name).get_shape()) for name in names}
    return {
        "num_labels": config.num_labels,
        "hidden_size": config.hidden_size,
        "num_hidden_layers": config.num_hidden_layers,
        "classifier": {k: v for k, v in tensors.items() if k.startswith("classifier.")},
        "tensors": tensors,
    }


def test_two_cpu_processes_write_one_artifact_shaped_like_a_single_process_run(
    tiny_data: Path, tmp_path: Path
) -> None:
    single = tmp_path / "single" / "model"
    spread = tmp_path / "spread" / "model"
    train = ["-m", "shopintent", "train", "--data", str(tiny_data), *TRAIN_ARGS]

    _run([sys.executable, *train, "--output", str(single)])
    launched = _run(
        [
            sys.executable,
            "-m",
            "accelerate.commands.launch",  # = `accelerate launch`
            "--multi_gpu",
            "--num_processes",
            "2",
            "--num_machines",
            "1",
            "--mixed_precision",
            "no",
            "--dynamo_backend",
            "no",
            "--main_process_port",
            str(free_port()),
            *train,
            "--output",
            str(spread),
        ]
    )

    one = json.loads((single / "shopintent.json").read_text(encoding="utf-8"))
    two = json.loads((spread / "shopintent.json").read_text(encoding="utf-8"))
    # Each of the two processes took half of every batch of 2 x 8: half the steps.
    assert two["train_steps"] == math.ceil(one["train_steps"] / 2) < one["train_steps"]
    assert two["labels"] == one["labels"]
    assert two["refit"] and one["refit"]
    shape = _shape(single)
    assert _shape(spread) == shape
    assert shape["classifier"]["classifier.weight"] == (len(one["labels"]), shape["hidden_size"])
    assert shape["num_labels"] == len(one["labels"]) and shape["num_hidden_layers"] == 1
    assert sorted(p.name for p in spread.iterdir()) == sorted(p.name for p in single.iterdir())
    # Rank 1 wrote nothing: one `saved` report, no second artifact, no staging folder.
    assert launched.count(f"saved {spread} (") == 1, launched[-3000:]
    assert [p.name for p in spread.parent.iterdir()] == ["model"]
