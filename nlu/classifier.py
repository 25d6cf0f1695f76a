"""Inference: `IntentClassifier` turns messages into the NLU parse result.

The parse result has exactly the shape Rasa's NLU produces (see ARCHITECTURE.md):
`{"text", "intent": {"name", "confidence"}, "intent_ranking": [...], "entities": [...]}`.
A message the decision rule rejects comes back as intent `nlu_fallback` with
confidence `1 - top confidence` and the model's real ranking kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from core.wire import FALLBACK_INTENT, Entity, IntentScore, ParseResult
from nlu.artifact import ArtifactMeta
from nlu.backends import Encoder, load_onnx_encoder, resolve_backend
from nlu.calibration import Decisions, OosStats, RawOutputs, decide
from nlu.config import get_settings
from nlu.entities import EntityExtractor
from nlu.errors import ArtifactError, NluError

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

RANKING_SIZE = 10


class BadMessageError(NluError):
    """A message given to the classifier is not a string."""


def default_threads() -> int:
    """Torch CPU threads for inference when not configured: 1.

    One short message is too little work to split across cores: on the 2-core
    development machine a second thread made `parse` 3x slower under load (p50
    248 ms vs 76 ms). Serve more traffic with more worker processes, or set
    `SHOPINTENT_NLU_THREADS` for large batches.
    """
    return 1


def forward(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    texts: Sequence[str],
    *,
    max_length: int,
    batch_size: int = 64,
    features: bool = False,
    progress: bool = False,
    pooling: str = "cls",
) -> RawOutputs:
    """Run the model over `texts` in length-sorted batches without padding to max length.

    Args:
        model: a sequence-classification model in eval mode.
        tokenizer: its tokenizer.
        texts: messages.
        max_length: truncation length in tokens.
        batch_size: messages per forward pass.
        features: also return mean-pooled last-layer features (for distance methods).
        progress: show a tqdm progress bar.
        pooling: "mean" (the head reads the unit-length mean of the last layer) or
            "cls" (the model's own head), as the artifact records.

    Returns:
        Logits (and features) in the order of `texts`.
    """
    import torch
    from tqdm.auto import tqdm

    from nlu.pooling import mean_pool, mean_pooled_logits

    n = len(texts)
    config: Any = model.config
    num_labels = int(config.num_labels)
    logits = np.zeros((n, num_labels), dtype=np.float32)
    feats: np.ndarray | None = None
    # Sorting by length keeps padding inside a batch small.
    order = sorted(range(n), key=lambda i: len(texts[i]))
    device = next(model.parameters()).device
    starts = range(0, n, batch_size)
    with torch.inference_mode():
        for start in tqdm(starts, disable=not progress, desc="predicting", unit="batch"):
            idx = order[start : start + batch_size]
            enc = tokenizer(
                [texts[i] for i in idx],
                padding=True,
                truncation=True,
                max_length=max_length,
                return_tensors="pt",
            ).to(device)
            if pooling == "mean":
                batch_logits, pooled = mean_pooled_logits(model, enc)
            else:
                out = model(**enc, output_hidden_states=features)
                batch_logits = out.logits
                if features:
                    pooled = mean_pool(out.hidden_states[-1], enc["attention_mask"])
            logits[idx] = batch_logits.float().cpu().numpy()
            if features:
                if feats is None:
                    feats = np.zeros((n, pooled.shape[-1]), dtype=np.float32)
                feats[idx] = pooled.float().cpu().numpy()
    if features and feats is None:
        feats = np.zeros((0, int(config.hidden_size)), dtype=np.float32)
    return RawOutputs(logits=logits, features=feats)


def model_labels(model: PreTrainedModel) -> list[str]:
    """Return a classification model's labels in label-id order."""
    config: Any = model.config
    return [str(config.id2label[i]) for i in range(int(config.num_labels))]


def limit_blas_threads(threads: int) -> None:
    """Let NumPy's BLAS (the out-of-scope score's matrix products) use `threads` threads.

    OpenBLAS threads busy-wait: with the other core busy (the action server, a second
    worker) a 1x384 by 384x3800 product went from 0.3 ms to 4.3 ms at the 99th
    percentile with its default two threads, and 0.33 ms with one. Applies to the whole
    process, as the inference threads do.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return
    threadpool_limits(limits=threads, user_api="blas")


def load_stats(directory: Path, meta: ArtifactMeta) -> OosStats | None:
    """Read the embedding statistics the artifact's rule needs (None when it needs none).

    Raises:
        ArtifactError: the rule names a statistics file that is missing.
    """
    if not meta.decision.stats_file:
        return None
    stats_path = directory / meta.decision.stats_file
    if not stats_path.is_file():
        raise ArtifactError(
            f"{directory}: expected embedding statistics {stats_path.name}, found none; "
            "retrain with `shopintent train`"
        )
    return OosStats.load(stats_path)


class TorchEncoder:
    """The fine-tuned transformer in PyTorch (the training install's backend).

    Args:
        model: a sequence-classification model in eval mode.
        tokenizer: its tokenizer.
        max_length: truncation length in tokens.
        pooling: "mean" or "cls", as the artifact records.
        batch_size: messages per forward pass.
    """

    name = "torch"

    def __init__(
        self,
        model: PreTrainedModel,
        tokenizer: PreTrainedTokenizerBase,
        *,
        max_length: int,
        pooling: str,
        batch_size: int = 32,
    ) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.max_length = max_length
        self.pooling = pooling
        self.batch_size = batch_size

    @classmethod
    def load(
        cls, directory: Path, meta: ArtifactMeta, *, batch_size: int, num_threads: int
    ) -> TorchEncoder:
        """Load the transformer weights and tokenizer of an artifact.

        Raises:
            ArtifactError: they do not load, or their labels differ from `shopintent.json`.
        """
        import torch
        from transformers import AutoModelForSequenceClassification, AutoTokenizer
        from transformers.utils import logging as hf_logging

        torch.set_num_threads(num_threads)
        verbosity = hf_logging.get_verbosity()
        hf_logging.set_verbosity_error()
        try:
            tokenizer = AutoTokenizer.from_pretrained(directory)
            # float(): a model saved in half precision still runs in fp32 on the CPU.
            model = AutoModelForSequenceClassification.from_pretrained(directory).float()
        except (OSError, ValueError) as exc:
            raise ArtifactError(
                f"{directory}: cannot load the transformer weights or tokenizer ({exc}); "
                "retrain with `shopintent train`"
            ) from None
        finally:
            hf_logging.set_verbosity(verbosity)
        model.eval()
        labels = model_labels(model)
        if labels != meta.labels:
            raise ArtifactError(
                f"{directory}: the labels in config.json {labels[:5]}... differ from "
                f"{meta.labels[:5]}... in shopintent.json; retrain with `shopintent train`"
            )
        return cls(
            model,
            tokenizer,
            max_length=meta.max_length,
            pooling=meta.pooling,
            batch_size=batch_size,
        )

    def run(self, texts: Sequence[str], *, features: bool, progress: bool = False) -> RawOutputs:
        """Return logits (and features) of `texts` in their order."""
        return forward(
            self.model,
            self.tokenizer,
            texts,
            max_length=self.max_length,
            batch_size=self.batch_size,
            features=features,
            progress=progress,
            pooling=self.pooling,
        )


class IntentClassifier:
    """A trained intent classifier with calibrated confidences and OOS rejection.

    >>> clf = IntentClassifier.load("models/default")  # doctest: +SKIP
    >>> clf.parse("where is my order 4411?")["intent"]["name"]  # doctest: +SKIP
    'track_order'
    """

    def __init__(
        self,
        encoder: Encoder,
        meta: ArtifactMeta,
        stats: OosStats | None,
    ) -> None:
        self._encoder = encoder
        self.meta = meta
        self._stats = stats
        self._entities = EntityExtractor.from_config(meta.entities)
        self._labels = list(meta.labels)

    @classmethod
    def load(
        cls,
        directory: str | Path,
        *,
        num_threads: int | None = None,
        backend: str | None = None,
    ) -> IntentClassifier:
        """Load a model directory written by `shopintent train`.

        Args:
            directory: the artifact directory.
            num_threads: CPU threads for inference (default: `SHOPINTENT_NLU_THREADS` or 1).
            backend: "auto" (default: `SHOPINTENT_NLU_BACKEND`, else "auto"), "onnx-int8",
                "onnx" or "torch"; see `nlu.backends`.

        Raises:
            NotAModelError: the directory has no `shopintent.json`.
            ArtifactError: the artifact is damaged.
            BackendError: the backend is unknown or cannot run here.
        """
        directory = Path(directory)
        meta = ArtifactMeta.load(directory)
        settings = get_settings()
        threads = num_threads or settings.nlu_threads or default_threads()
        limit_blas_threads(threads)
        chosen = resolve_backend(meta, directory, backend or settings.nlu_backend)
        encoder: Encoder
        if chosen == "torch":
            encoder = TorchEncoder.load(
                directory, meta, batch_size=settings.nlu_batch_size, num_threads=threads
            )
        else:
            encoder = load_onnx_encoder(
                directory, meta, chosen, batch_size=settings.nlu_batch_size, num_threads=threads
            )
        return cls(encoder, meta, load_stats(directory, meta))

    @property
    def backend(self) -> str:
        """The inference backend answering: "torch", "onnx" or "onnx-int8"."""
        return self._encoder.name

    @property
    def batch_size(self) -> int:
        """Messages per forward pass; 1 on int8 ONNX, whose activation scales are per run."""
        return int(self._encoder.batch_size)

    @property
    def labels(self) -> list[str]:
        """The intents the model knows, in label-id order."""
        return list(self._labels)

    @property
    def version(self) -> str:
        """Model id: creation timestamp plus training-data hash."""
        return self.meta.model_version

    def parse(self, text: str) -> ParseResult:
        """Classify one message and extract its entities.

        Raises:
            BadMessageError: `text` is not a string.
        """
        return self.parse_batch([text])[0]

    def parse_batch(self, texts: Sequence[str]) -> list[ParseResult]:
        """Classify several messages with batched forward passes.

        Raises:
            BadMessageError: an item is not a string.
        """
        for i, text in enumerate(texts):
            if not isinstance(text, str):
                raise BadMessageError(
                    f"message {i}: expected a string, found {type(text).__name__}; "
                    "pass the message text"
                )
        if not texts:
            return []
        decisions = self.decide(texts)
        return [
            # The extractor's dicts carry Rasa's entity fields (`Entity`).
            self._result(text, decisions, i, cast(list[Entity], self._entities.extract(text)))
            for i, text in enumerate(texts)
        ]

    def decide(self, texts: Sequence[str], *, progress: bool = False) -> Decisions:
        """Return the decision rule's raw view of `texts` (used by evaluation)."""
        rule = self.meta.decision
        nonblank = [t if t.strip() else "." for t in texts]
        outputs = self._encoder.run(
            nonblank, features=rule.oos_method != "softmax", progress=progress
        )
        decisions = decide(outputs, rule, self._stats)
        if rule.oos_label in self._labels:
            # A message the model puts in the OOS class is answered as that intent
            # (the dialogue has a response for it), not as an unsure fallback.
            decisions.rejected &= decisions.top != self._labels.index(rule.oos_label)
        # An empty message carries no intent: reject it rather than guess.
        blank = np.array([not t.strip() for t in texts])
        decisions.rejected = decisions.rejected | blank
        return decisions

    def predicted_names(self, decisions: Decisions) -> list[str]:
        """Return the final intent name of each message (`nlu_fallback` when rejected)."""
        return [
            FALLBACK_INTENT if decisions.rejected[i] else self._labels[int(decisions.top[i])]
            for i in range(len(decisions.top))
        ]

    def _result(
        self, text: str, decisions: Decisions, i: int, entities: list[Entity]
    ) -> ParseResult:
        probs = decisions.probs[i]
        order = np.argsort(-probs)[:RANKING_SIZE]
        ranking: list[IntentScore] = [
            {"name": self._labels[int(j)], "confidence": round(float(probs[j]), 6)} for j in order
        ]
        top = ranking[0]
        intent: IntentScore
        if decisions.rejected[i]:
            intent = {"name": FALLBACK_INTENT, "confidence": round(1.0 - top["confidence"], 6)}
        else:
            intent = {"name": top["name"], "confidence": top["confidence"]}
        return {"text": text, "intent": intent, "intent_ranking": ranking, "entities": entities}
