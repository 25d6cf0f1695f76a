"""Training data as a Hugging Face ``datasets.DatasetDict``, the form training consumes.

:func:`load_dataset` reads the files with :func:`nlu.data.read_splits` and builds
the ``text`` / ``label`` (``ClassLabel``) / ``entities`` columns. ``datasets`` is
imported when it is called, so ``import nlu.data`` stays light (validation and the
importer never need it).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from nlu.data.discovery import as_paths, read_splits
from nlu.data.types import NluData, Split, TooFewLabelsError, UnknownLabelError

if TYPE_CHECKING:
    import datasets


def load_dataset(
    paths: str | Path | Sequence[str | Path],
    *,
    text_column: str | None = None,
    label_column: str | None = None,
    label_names: Sequence[str] | None = None,
    min_labels: int = 1,
) -> datasets.DatasetDict:
    """Load training data as a Hugging Face ``DatasetDict``.

    Columns: ``text`` (string), ``label`` (``ClassLabel``) and ``entities`` (list
    of ``{entity, value, start, end}``). Splits: ``train``, plus ``test`` when test
    files exist (see :func:`find_data_files`).

    Args:
        paths: One path or several: Rasa NLU YAML, CSV/TSV, JSONL files or folders.
        text_column: CSV column / JSONL key holding the text (auto-detected if None).
        label_column: CSV column / JSONL key holding the intent (auto-detected if None).
        label_names: Fixed label names in id order (e.g. from a saved model); the
            default is the sorted intents of all splits.
        min_labels: Least number of distinct intents the train split must hold
            (a classifier needs 2).

    Returns:
        The dataset dict.

    Raises:
        DataNotFoundError: If a path does not exist or a folder holds no data.
        DataFormatError: On the first malformed file or line.
        UnknownLabelError: If ``label_names`` misses an intent found in the data.
        TooFewLabelsError: If the train split has fewer than ``min_labels`` intents.

    >>> ds = load_dataset("training_data", min_labels=2)  # doctest: +SKIP
    >>> ds["train"].features["label"].names[:2]  # doctest: +SKIP
    ['cancel_order', 'change_order']
    """
    import datasets

    splits = read_splits(paths, text_column=text_column, label_column=label_column)
    train_intents = splits["train"].intents
    if len(train_intents) < min_labels:
        raise TooFewLabelsError(
            f"expected at least {min_labels} distinct intents in the training split, found "
            f"{len(train_intents)} {train_intents} in {len(splits['train'].examples)} examples "
            f"from {[str(p) for p in as_paths(paths)]}; add examples of more intents"
        )
    names = _label_names(splits, label_names)
    index = {name: i for i, name in enumerate(names)}
    features = datasets.Features(
        {
            "text": datasets.Value("string"),
            "label": datasets.ClassLabel(names=names),
            "entities": datasets.List(
                {
                    "entity": datasets.Value("string"),
                    "value": datasets.Value("string"),
                    "start": datasets.Value("int32"),
                    "end": datasets.Value("int32"),
                }
            ),
        }
    )
    result = datasets.DatasetDict()
    for split in ("train", "test"):
        examples = splits[split].examples
        if split == "test" and not examples:
            continue
        columns = {
            "text": [e.text for e in examples],
            "label": [index[e.intent] for e in examples],
            "entities": [
                [
                    {"entity": s.entity, "value": s.value, "start": s.start, "end": s.end}
                    for s in e.entities
                ]
                for e in examples
            ],
        }
        result[split] = datasets.Dataset.from_dict(columns, features=features)
    return result


def _label_names(splits: dict[Split, NluData], fixed: Sequence[str] | None) -> list[str]:
    found = sorted(set(splits["train"].intents) | set(splits["test"].intents))
    if fixed is None:
        return found
    names = list(fixed)
    if len(set(names)) != len(names):
        raise ValueError(f"label_names must be unique, found duplicates in {names}")
    unknown = [name for name in found if name not in set(names)]
    if unknown:
        first = next(e for s in splits.values() for e in s.examples if e.intent == unknown[0])
        raise UnknownLabelError(
            f"expected only the intents {names}, found unknown intents {unknown} "
            f"(first at {first.source}:{first.line}); retrain the model with these intents "
            "or remove the examples"
        )
    return names
