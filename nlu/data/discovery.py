"""Which files hold training data, and reading them into a train and a test split.

:func:`find_data_files` decides which files below a folder are read and which split
each belongs to; :func:`read_splits` reads them with the reader for their type
(``rasa_yaml`` or ``tables``), strictly or leniently; :func:`read_nlu` merges the
splits for callers that want every example.

>>> splits = read_splits("training_data")  # doctest: +SKIP
>>> len(splits["train"].examples), len(splits["test"].examples)  # doctest: +SKIP
(8623, 1523)
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from nlu.data.rasa_yaml import YAML_SUFFIXES, read_rasa_yaml
from nlu.data.tables import TABLE_SUFFIXES, read_jsonl, read_table
from nlu.data.types import (
    DataFormatError,
    DataNotFoundError,
    NluData,
    Problem,
    ProblemSink,
    Split,
)

SKIPPED_DIRS = frozenset({"sources"})


def find_data_files(path: str | Path, *, test_dir_name: str = "test") -> list[tuple[Path, Split]]:
    """List the data files under ``path`` and the split each one belongs to.

    A file is returned as is (split ``train``). A folder yields every Rasa YAML
    file below it (folders named ``sources`` or starting with ``.`` skipped) and
    the CSV/TSV/JSONL files at its top level; YAML files below a folder named
    ``test_dir_name`` go to the ``test`` split. Whether a YAML file holds NLU data
    is decided when it is read.

    Args:
        path: A data file or a folder.
        test_dir_name: Name of the sub-folder that holds the test split.

    Returns:
        ``(file, split)`` pairs in a stable (sorted) order.

    Raises:
        DataNotFoundError: If ``path`` does not exist.
        DataFormatError: If ``path`` is a file of an unsupported type.
    """
    root = Path(path)
    if not root.exists():
        raise DataNotFoundError(
            f"data path {str(root)!r} does not exist: expected a folder of Rasa NLU YAML "
            "files (like training_data/) or a .yml/.csv/.tsv/.jsonl file; check the path"
        )
    if root.is_file():
        if root.suffix.lower() not in (*YAML_SUFFIXES, *TABLE_SUFFIXES):
            raise DataFormatError(
                f"unsupported file type {root.suffix!r}: expected one of "
                f"{[*YAML_SUFFIXES, *TABLE_SUFFIXES]}",
                file=str(root),
            )
        return [(root, "train")]
    found: list[tuple[Path, Split]] = []
    for file in sorted(root.rglob("*")):
        rel_dirs = file.relative_to(root).parts[:-1]
        if not file.is_file() or any(d in SKIPPED_DIRS or d.startswith(".") for d in rel_dirs):
            continue
        suffix = file.suffix.lower()
        if suffix in YAML_SUFFIXES:
            found.append((file, "test" if test_dir_name in rel_dirs else "train"))
        elif suffix in TABLE_SUFFIXES and not rel_dirs:
            found.append((file, "train"))
    return found


def read_splits(
    paths: str | Path | Sequence[str | Path],
    *,
    text_column: str | None = None,
    label_column: str | None = None,
    test_dir_name: str = "test",
    problems: list[Problem] | None = None,
) -> dict[Split, NluData]:
    """Read data files and folders into a ``train`` and a ``test`` split.

    Args:
        paths: One path or several (files or folders, see :func:`find_data_files`).
        text_column: CSV column / JSONL key holding the text (auto-detected if None).
        label_column: CSV column / JSONL key holding the intent (auto-detected if None).
        test_dir_name: Name of the sub-folder that holds the test split.
        problems: If given, format problems are appended here and reading goes on
            (lenient, used by validation); if None the first one raises.

    Returns:
        ``{"train": NluData, "test": NluData}`` (either may be empty).

    Raises:
        DataNotFoundError: If a path does not exist or a folder holds no data.
        DataFormatError: In strict mode, on the first malformed file or line.
    """
    sink = ProblemSink(problems)
    splits: dict[Split, NluData] = {"train": NluData(), "test": NluData()}
    for root in as_paths(paths):
        files = find_data_files(root, test_dir_name=test_dir_name)
        read_any = False
        for file, split in files:
            part: NluData | None
            if file.suffix.lower() in YAML_SUFFIXES:
                part = read_rasa_yaml(file, sink, require_nlu=file == root)
            elif file.suffix.lower() == ".jsonl":
                part = read_jsonl(file, sink, text_column, label_column)
            else:
                part = read_table(file, sink, text_column, label_column)
            if part is not None:
                read_any = True
                splits[split].extend(part)
        if not read_any and not (problems and any(p.file.startswith(str(root)) for p in problems)):
            raise DataNotFoundError(
                f"no training data found in {str(root)!r}: expected Rasa NLU YAML files "
                "(with a top-level 'nlu:' key) anywhere below it, or CSV/TSV/JSONL files "
                "at its top level"
            )
    return splits


def as_paths(paths: str | Path | Sequence[str | Path]) -> list[Path]:
    """One path or several, as a list of paths."""
    if isinstance(paths, str | Path):
        return [Path(paths)]
    return [Path(p) for p in paths]


def read_nlu(
    paths: str | Path | Sequence[str | Path],
    *,
    text_column: str | None = None,
    label_column: str | None = None,
) -> NluData:
    """Read every example from data files and folders, train and test splits together.

    Use :func:`read_splits` or :func:`nlu.data.load_dataset` to keep the splits apart.

    Args:
        paths: One path or several: Rasa NLU YAML, CSV/TSV, JSONL files or folders.
        text_column: CSV column / JSONL key holding the text (auto-detected if None).
        label_column: CSV column / JSONL key holding the intent (auto-detected if None).

    Returns:
        All examples plus the merged synonyms, lookups and regexes.

    Raises:
        DataNotFoundError: If a path does not exist or a folder holds no data.
        DataFormatError: On the first malformed file or line.

    >>> read_nlu("training_data/test/nlu.yml").intents  # doctest: +SKIP
    ['cancel_order', ...]
    """
    splits = read_splits(paths, text_column=text_column, label_column=label_column)
    merged = NluData()
    merged.extend(splits["train"])
    merged.extend(splits["test"])
    return merged
