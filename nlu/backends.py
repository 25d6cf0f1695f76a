"""Inference backends: what turns a batch of messages into logits and pooled features.

The decision rule (temperature, out-of-scope score, thresholds) works on those two
arrays only, so it is the same on every backend:

- `torch`: the fine-tuned transformer in PyTorch (needs the training install).
- `onnx`: the same network exported to ONNX (`model.onnx`), run by ONNX Runtime.
- `onnx-int8`: the ONNX graph with its weights dynamically quantised to int8
  (`model.int8.onnx`), several times faster on a CPU.

`auto` (the default) takes int8 ONNX when the artifact has it and its agreement check
against PyTorch passed at export, else plain ONNX under the same condition, else
PyTorch. The ONNX backends need `onnxruntime` and `tokenizers` only: importing this
module, or serving with them, never imports torch.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from nlu.calibration import RawOutputs
from nlu.errors import ArtifactError, NluError

if TYPE_CHECKING:
    from nlu.artifact import ArtifactMeta

BACKENDS = ("auto", "onnx-int8", "onnx", "torch")
ONNX_BACKENDS = ("onnx-int8", "onnx")
ONNX_FILES = {"onnx": "model.onnx", "onnx-int8": "model.int8.onnx"}
TOKENIZER_FILE = "tokenizer.json"
# The graph's inputs and outputs, by name (the exporter and the runtime agree on these).
ONNX_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
ONNX_OUTPUTS = ("logits", "features")


class BackendError(NluError):
    """The requested inference backend is unknown or cannot run this artifact here."""


class Encoder(Protocol):
    """Runs the network over messages: logits (and mean-pooled features) per message."""

    name: str
    batch_size: int  # messages per run (1: one message per run, as int8 does)

    def run(self, texts: Sequence[str], *, features: bool, progress: bool = False) -> RawOutputs:
        """Return the raw outputs of `texts`, in their order."""


def check_backend(backend: str) -> str:
    """Return `backend` when it is one of `BACKENDS`.

    Raises:
        BackendError: it is not.
    """
    if backend not in BACKENDS:
        raise BackendError(
            f"unknown NLU backend {backend!r}: expected one of {', '.join(BACKENDS)} "
            "(set SHOPINTENT_NLU_BACKEND or pass backend=...)"
        )
    return backend


def usable_onnx(meta: ArtifactMeta, directory: Path) -> list[str]:
    """The ONNX backends of an artifact whose file exists and whose export check passed."""
    info = meta.onnx or {}
    files = info.get("files", {})
    checks = info.get("checks", {})
    return [
        name
        for name in ONNX_BACKENDS
        if name in files
        and (directory / files[name]).is_file()
        and bool(checks.get(name, {}).get("passed"))
    ]


def resolve_backend(meta: ArtifactMeta, directory: Path, requested: str) -> str:
    """Pick the backend to load: `requested`, or the best usable one for `auto`.

    Raises:
        BackendError: `requested` is unknown, or an ONNX backend was asked for and the
            artifact has no such file.
    """
    check_backend(requested)
    if requested == "auto":
        usable = usable_onnx(meta, directory)
        if usable and onnxruntime_available():
            return usable[0]
        if torch_available():
            return "torch"
        if usable:
            raise BackendError(
                f"{directory}: the model has ONNX files but onnxruntime is not installed; "
                'install it with `pip install "shopintent[serve]"`'
            )
        raise BackendError(
            f"{directory}: expected ONNX files that passed their export check (or torch "
            "installed), found neither; export them with "
            f"`shopintent models export --model {directory}` where torch is installed"
        )
    if requested == "torch":
        if not torch_available():
            raise BackendError(
                "the torch backend needs PyTorch, which this install lacks; install "
                '`pip install "shopintent[train]"` or use SHOPINTENT_NLU_BACKEND=auto'
            )
        return requested
    name = (meta.onnx or {}).get("files", {}).get(requested)
    if not name or not (directory / name).is_file():
        raise BackendError(
            f"{directory}: expected {ONNX_FILES[requested]} for the {requested} backend, "
            f"found none; export it with `shopintent models export --model {directory}`"
        )
    return requested


def torch_available() -> bool:
    """Whether PyTorch and transformers can be imported (without importing them)."""
    from importlib.util import find_spec

    return find_spec("torch") is not None and find_spec("transformers") is not None


def onnxruntime_available() -> bool:
    """Whether ONNX Runtime and tokenizers can be imported (without importing them)."""
    from importlib.util import find_spec

    return find_spec("onnxruntime") is not None and find_spec("tokenizers") is not None


class OnnxEncoder:
    """The exported network run by ONNX Runtime, tokenised by `tokenizers`.

    Args:
        model_path: `model.onnx` or `model.int8.onnx`.
        tokenizer_path: the artifact's `tokenizer.json` (the fast tokenizer's file).
        max_length: truncation length in tokens (the artifact's).
        batch_size: messages per run.
        num_threads: ONNX Runtime intra-op threads.
        name: the backend name reported (`onnx` or `onnx-int8`).

    Raises:
        ArtifactError: a file is missing or does not load.
    """

    def __init__(
        self,
        model_path: Path,
        tokenizer_path: Path,
        *,
        max_length: int,
        batch_size: int = 32,
        num_threads: int = 1,
        name: str = "onnx",
    ) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self.name = name
        self.batch_size = batch_size
        if not tokenizer_path.is_file():
            raise ArtifactError(
                f"{tokenizer_path.parent}: expected {tokenizer_path.name} (the fast tokenizer) "
                f"for the {name} backend, found none; re-export with `shopintent models export`"
            )
        try:
            self._tokenizer = Tokenizer.from_file(str(tokenizer_path))
        except Exception as exc:
            raise ArtifactError(f"{tokenizer_path}: cannot load the tokenizer ({exc})") from None
        self._tokenizer.enable_truncation(max_length)
        pad = _pad_token(tokenizer_path.parent)
        pad_id = self._tokenizer.token_to_id(pad) if pad else None
        self._tokenizer.enable_padding(pad_id=pad_id or 0, pad_token=pad or "[PAD]")
        options = ort.SessionOptions()
        options.intra_op_num_threads = num_threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3
        try:
            self._session = ort.InferenceSession(
                str(model_path), options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:
            raise ArtifactError(
                f"{model_path}: ONNX Runtime cannot load it ({type(exc).__name__}: {exc}); "
                "re-export with `shopintent models export`"
            ) from None
        self._inputs = [i.name for i in self._session.get_inputs()]
        outputs = [o.name for o in self._session.get_outputs()]
        if list(ONNX_OUTPUTS) != outputs[:2]:
            raise ArtifactError(
                f"{model_path}: expected outputs {list(ONNX_OUTPUTS)}, found {outputs}; "
                "re-export with `shopintent models export`"
            )

    def run(self, texts: Sequence[str], *, features: bool, progress: bool = False) -> RawOutputs:
        """Return logits (and features) of `texts` in length-sorted batches."""
        n = len(texts)
        order = sorted(range(n), key=lambda i: len(texts[i]))
        logits: np.ndarray | None = None
        feats: np.ndarray | None = None
        starts: Iterable[int] = range(0, n, self.batch_size)
        if progress:
            from tqdm.auto import tqdm

            starts = tqdm(starts, desc="predicting", unit="batch")
        for start in starts:
            idx = order[start : start + self.batch_size]
            encodings = self._tokenizer.encode_batch([texts[i] for i in idx])
            feed: dict[str, Any] = {}
            columns = {
                "input_ids": [e.ids for e in encodings],
                "attention_mask": [e.attention_mask for e in encodings],
                "token_type_ids": [e.type_ids for e in encodings],
            }
            for name in self._inputs:
                feed[name] = np.asarray(columns[name], dtype=np.int64)
            batch_logits, pooled = self._session.run(list(ONNX_OUTPUTS), feed)[:2]
            if logits is None:
                logits = np.zeros((n, batch_logits.shape[-1]), dtype=np.float32)
                feats = np.zeros((n, pooled.shape[-1]), dtype=np.float32)
            logits[idx] = batch_logits
            assert feats is not None
            feats[idx] = pooled
        if logits is None:
            logits = np.zeros((0, 0), dtype=np.float32)
            feats = np.zeros((0, 0), dtype=np.float32)
        return RawOutputs(logits=logits, features=feats if features else None)


def _pad_token(directory: Path) -> str | None:
    """The pad token the saved Hugging Face tokenizer declares (None when it declares none)."""
    for name in ("tokenizer_config.json", "special_tokens_map.json"):
        path = directory / name
        if not path.is_file():
            continue
        try:
            pad = json.loads(path.read_text(encoding="utf-8")).get("pad_token")
        except (json.JSONDecodeError, AttributeError):
            continue
        if isinstance(pad, dict):
            pad = pad.get("content")
        if isinstance(pad, str):
            return pad
    return None


def load_onnx_encoder(
    directory: Path, meta: ArtifactMeta, backend: str, *, batch_size: int, num_threads: int
) -> OnnxEncoder:
    """Load the artifact's ONNX file for `backend` (`onnx` or `onnx-int8`).

    The int8 graph quantises its activations with one scale per tensor, computed from
    the whole batch: run together, one shopper's message would shift another's
    confidence (measured 0.005 on the tiny model). It therefore runs one message at a
    time, so a message gets the same answer whatever else arrives with it.
    """
    files = (meta.onnx or {}).get("files", {})
    return OnnxEncoder(
        directory / files.get(backend, ONNX_FILES[backend]),
        directory / TOKENIZER_FILE,
        max_length=meta.max_length,
        batch_size=1 if backend == "onnx-int8" else batch_size,
        num_threads=num_threads,
        name=backend,
    )
