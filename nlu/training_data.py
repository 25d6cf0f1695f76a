"""Training data for one run: labelled texts, the seeded validation split, the token ids.

`load_data` reads the training split of the configured data; `prepare_data` checks
labelled texts and carves a stratified, seeded validation part (`stratified_split`)
on which the decision rule is calibrated; `tokenized_dataset` turns the training part
into the `datasets.Dataset` the Trainer reads.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from nlu.artifact import data_hash
from nlu.config import TrainConfig
from nlu.entities import build_entity_config
from nlu.errors import TrainDataError

if TYPE_CHECKING:
    import datasets
    from transformers import PreTrainedTokenizerBase


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


def tokenized_dataset(
    data: TrainingData, tokenizer: PreTrainedTokenizerBase, max_length: int
) -> datasets.Dataset:
    """The training part as token ids and label ids (positions in `data.labels`)."""
    import datasets

    index = {name: i for i, name in enumerate(data.labels)}
    train_ds = datasets.Dataset.from_dict(
        {"text": data.train.texts, "label": [index[x] for x in data.train.labels]}
    )
    return train_ds.map(
        lambda batch: tokenizer(batch["text"], truncation=True, max_length=max_length),
        batched=True,
        remove_columns=["text"],
        desc="tokenizing",
    )
