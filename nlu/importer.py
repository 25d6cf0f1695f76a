"""Import another project's data into `training_data/`, merged so it adds no conflicts.

Before anything is written, `merge_plan` compares new examples with the existing
training data: exact duplicates are dropped, and a text that the existing data
already labels with another intent is a *conflict*, left out and reported, so one
import can never teach the model two answers for the same message. The review export
(`shopintent review export`) merges the same way.

The Rasa 3.1 NLU writer (`write_rasa_nlu`, `render_rasa_nlu`, `format_example`,
`clean_text`) lives in `nlu.data.rasa_yaml` (import it from `nlu.data`).

>>> plan = import_file(Path("other_project/nlu.yml"), Path("training_data/nlu/imported.yml"))  # doctest: +SKIP
>>> plan.written, len(plan.conflicts)  # doctest: +SKIP
(412, 3)
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from core.paths import DEFAULT_DATA_DIR
from nlu.data import Example, NluData, read_nlu
from nlu.data.rasa_yaml import YAML_SUFFIXES, clean_text, write_rasa_nlu
from nlu.errors import NluError

__all__ = [
    "DEFAULT_IMPORT_DIR",
    "DEFAULT_TRAINING_DATA",
    "Conflict",
    "DataImportError",
    "ImportResult",
    "ImportValidationError",
    "MergePlan",
    "import_file",
    "merge_plan",
    "read_existing",
]

DEFAULT_TRAINING_DATA = Path(DEFAULT_DATA_DIR)
DEFAULT_IMPORT_DIR = DEFAULT_TRAINING_DATA / "nlu"


class DataImportError(NluError):
    """An import would overwrite data or its input cannot be imported."""


class ImportValidationError(NluError):
    """The file an import wrote does not pass `nlu.validate`; it was removed again."""


@dataclass(frozen=True)
class Conflict:
    """A new example whose text the existing data labels with another intent."""

    text: str
    intent: str
    existing_intent: str
    source: str = ""


@dataclass
class MergePlan:
    """What an import or export will write, and what it leaves out and why."""

    examples: list[Example] = field(default_factory=list)
    duplicates: list[Example] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)


def _key(text: str) -> str:
    return clean_text(text).casefold()


def merge_plan(new: Iterable[Example], existing: Iterable[Example]) -> MergePlan:
    """Decide which new examples to keep.

    Texts are compared case-insensitively with whitespace collapsed. A new example is
    a duplicate when the existing data (or an earlier new example) has the same text
    and intent, and a conflict when it has the same text with another intent.
    """
    known: dict[str, str] = {}
    for example in existing:
        known.setdefault(_key(example.text), example.intent)
    plan = MergePlan()
    for example in new:
        key = _key(example.text)
        if not key:
            continue
        if key not in known:
            known[key] = example.intent
            plan.examples.append(example)
        elif known[key] == example.intent:
            plan.duplicates.append(example)
        else:
            plan.conflicts.append(
                Conflict(example.text, example.intent, known[key], f"{example.source}")
            )
    return plan


def read_existing(training_data: Path, *, exclude: Path | None = None) -> list[Example]:
    """Every example under `training_data` (train and test), minus one file being replaced."""
    if not Path(training_data).exists():
        return []
    examples = read_nlu(training_data).examples
    if exclude is None:
        return examples
    skip = str(Path(exclude).resolve())
    return [e for e in examples if str(Path(e.source).resolve()) != skip]


@dataclass
class ImportResult:
    """The outcome of `import_file`."""

    out: Path
    plan: MergePlan
    intents: list[str]
    warnings: list[str] = field(default_factory=list)

    @property
    def written(self) -> int:
        """Examples written to `out`."""
        return len(self.plan.examples)


def import_file(
    source: Path,
    out: Path | None = None,
    *,
    training_data: Path = DEFAULT_TRAINING_DATA,
    text_column: str | None = None,
    label_column: str | None = None,
    overwrite: bool = False,
    min_examples: int = 1,
) -> ImportResult:
    """Import a Rasa `nlu.yml`, CSV/TSV or JSONL file into the training data.

    The examples are de-duplicated against the existing data, conflicts are left out,
    and the written file is checked with `nlu.validate`; a file that fails validation
    is removed again so the training data stays trainable.

    Args:
        source: The file to import.
        out: Where to write (default `training_data/nlu/imported_<name>.yml`).
        training_data: The project's data folder, for duplicates and conflicts.
        text_column: CSV/JSONL text column when it is not auto-detected.
        label_column: CSV/JSONL intent column when it is not auto-detected.
        overwrite: Replace `out` if it exists.
        min_examples: Fewest examples an intent of the new file may have (validation).

    Returns:
        What was written and what was left out.

    Raises:
        DataImportError: `out` exists and `overwrite` is False, or `source` is inside `out`.
        ImportValidationError: The written file does not validate.
        nlu.data.DataNotFoundError, nlu.data.DataFormatError: `source` cannot be read.
    """
    source = Path(source)
    data: NluData = read_nlu(source, text_column=text_column, label_column=label_column)
    target = Path(out) if out else DEFAULT_IMPORT_DIR / f"imported_{_slug(source.stem)}.yml"
    if target.suffix.lower() not in YAML_SUFFIXES:
        raise DataImportError(
            f"expected the output to be a .yml file, found {target}; name a NAME.yml output",
            options=("out",),
        )
    if target.exists() and not overwrite:
        raise DataImportError(
            f"expected a new output file, but {target} exists; pass --overwrite to replace "
            "it or --out to write somewhere else"
        )
    if target.resolve() == source.resolve():
        raise DataImportError(
            f"expected the output to differ from the input file, found {target} twice",
            options=("out",),
        )
    existing = read_existing(training_data, exclude=target)
    plan = merge_plan(data.examples, existing)
    write_rasa_nlu(
        target,
        plan.examples,
        synonyms=data.synonyms,
        lookups=data.lookups,
        regexes=data.regexes,
        comment=f"Imported from {source.name} by `shopintent data import`.",
    )
    warnings = _validate_or_remove(target, Path(training_data), min_examples)
    return ImportResult(
        out=target,
        plan=plan,
        intents=sorted({e.intent for e in plan.examples}),
        warnings=warnings,
    )


def _validate_or_remove(path: Path, training_data: Path, min_examples: int) -> list[str]:
    """Validate the data with the new file in place; remove the file if it brought errors.

    Returns:
        The validator's warnings about the new file (formatted), for the caller to show.
    """
    from nlu.validate import format_issue, validate_path

    inside = training_data.exists() and path.resolve().is_relative_to(training_data.resolve())
    report = validate_path(training_data if inside else path, min_examples=min_examples)
    # Line 0 marks data-set-wide checks (e.g. "at least 2 intents"), which say nothing
    # about a file validated on its own outside the training data.
    mine = [
        i
        for i in report.issues
        if Path(i.file).resolve() == path.resolve() and (inside or i.line > 0)
    ]
    errors = [format_issue(i) for i in mine if i.severity == "error"]
    if errors:
        path.unlink(missing_ok=True)
        shown = "; ".join(errors[:5]) + (f"; ... {len(errors) - 5} more" if len(errors) > 5 else "")
        raise ImportValidationError(
            f"expected the imported data to validate, but {path} had {len(errors)} error(s): "
            f"{shown}. The file was not kept; fix the input (or lower the fewest examples "
            "per intent) and import it again.",
            options=("min_examples",),
        )
    return [format_issue(i) for i in mine if i.severity == "warning"]


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_") or "data"
