"""Load intent training data: Rasa 3.x NLU YAML, CSV/TSV and JSONL.

The loader turns files into plain :class:`Example` records (annotations stripped,
entity spans indexed into the plain text) and, for training, into a Hugging Face
``DatasetDict``. It is strict by default: the first malformed line raises a
:class:`DataFormatError` naming the file and line. Validation (``nlu.validate``)
runs the same parser leniently, passing a ``problems`` list that collects every
problem instead.

>>> data = read_nlu("training_data")  # doctest: +SKIP
>>> data.intents[:3]  # doctest: +SKIP
['cancel_order', 'change_order', 'check_refund_policy']
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import yaml

from nlu.errors import NluError

if TYPE_CHECKING:
    import datasets

Split = Literal["train", "test"]
Severity = Literal["error", "warning"]

YAML_SUFFIXES = (".yml", ".yaml")
TABLE_SUFFIXES = (".csv", ".tsv", ".jsonl")
TEXT_COLUMNS = ("text", "utterance", "query", "instruction", "sentence", "message", "example")
LABEL_COLUMNS = ("label", "intent", "category", "class")
SKIPPED_DIRS = frozenset({"sources"})
NLU_KEYS = ("intent", "synonym", "regex", "lookup")

_NLU_KEY_LINE = re.compile(r"^nlu\s*:", re.MULTILINE)
_JSON = json.JSONDecoder()


class DataNotFoundError(NluError):
    """A data path does not exist, or a folder holds no training data."""


class DataFormatError(NluError):
    """A data file is malformed; carries the file and the 1-based line when known."""

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None) -> None:
        self.message = message
        self.file = file
        self.line = line
        where = f"{file}:{line}: " if file and line else f"{file}: " if file else ""
        super().__init__(f"{where}{message}")


class UnknownLabelError(NluError):
    """The data holds an intent missing from the label names the caller fixed."""


class TooFewLabelsError(NluError):
    """The training split has fewer distinct intents than the caller needs."""


@dataclass(frozen=True)
class EntitySpan:
    """One entity in an example; ``start``/``end`` index into the plain text."""

    entity: str
    value: str
    start: int
    end: int


@dataclass(frozen=True)
class Example:
    """One training utterance: plain text (annotations stripped) and its intent."""

    text: str
    intent: str
    entities: tuple[EntitySpan, ...] = ()
    source: str = ""
    line: int = 0


@dataclass
class NluData:
    """Examples plus the Rasa side tables (synonyms, lookups, regexes) of one split."""

    examples: list[Example] = field(default_factory=list)
    synonyms: dict[str, str] = field(default_factory=dict)
    lookups: dict[str, list[str]] = field(default_factory=dict)
    regexes: dict[str, list[str]] = field(default_factory=dict)

    @property
    def intents(self) -> list[str]:
        """Sorted unique intent names."""
        return sorted({e.intent for e in self.examples})

    def extend(self, other: NluData) -> None:
        """Append ``other``'s examples and merge its side tables into this one."""
        self.examples.extend(other.examples)
        self.synonyms.update(other.synonyms)
        for name, values in other.lookups.items():
            self.lookups.setdefault(name, []).extend(values)
        for name, patterns in other.regexes.items():
            self.regexes.setdefault(name, []).extend(patterns)


@dataclass(frozen=True)
class Problem:
    """A problem found while reading leniently (see ``problems`` in :func:`read_splits`)."""

    severity: Severity
    file: str
    line: int
    message: str


class _Sink:
    """Raises on the first error (strict) or collects every problem (lenient)."""

    def __init__(self, problems: list[Problem] | None) -> None:
        self.problems = problems

    def error(self, message: str, file: str, line: int) -> None:
        if self.problems is None:
            raise DataFormatError(message, file=file, line=line)
        self.problems.append(Problem("error", file, line, message))

    def warning(self, message: str, file: str, line: int) -> None:
        if self.problems is not None:
            self.problems.append(Problem("warning", file, line, message))


# --- inline entity annotations -------------------------------------------------


def parse_annotated(text: str) -> tuple[str, tuple[EntitySpan, ...], list[str]]:
    """Strip Rasa entity annotations from one example.

    Accepts ``[value](entity)``, ``[value](entity:synonym)``,
    ``[value]{"entity": "x", "value": "y", "role": ...}`` and the list form
    ``[value][{"entity": "x"}, {"entity": "y"}]``. Brackets not followed by ``(``,
    ``{`` or ``[`` stay as literal text, as in Rasa.

    Args:
        text: The example as written in the YAML file.

    Returns:
        The plain text, the entity spans indexed into it, and notes (warnings)
        about brackets kept as literal text.

    Raises:
        DataFormatError: On unbalanced brackets, a missing entity name or bad JSON
            (without file and line; callers add them).
    """
    out: list[str] = []
    spans: list[EntitySpan] = []
    notes: list[str] = []
    length = 0
    i = 0
    n = len(text)
    while i < n:
        j = _next_bracket(text, i)
        if j == -1:
            out.append(text[i:])
            break
        out.append(text[i:j])
        length += j - i
        if text[j] == "]":
            raise DataFormatError(
                f"unbalanced ']' at column {j + 1} of {text!r}: expected '[value](entity)'; "
                "remove the ']' or add the missing '['"
            )
        close = text.find("]", j + 1)
        reopen = text.find("[", j + 1)
        if close == -1 or (reopen != -1 and reopen < close):
            raise DataFormatError(
                f"unbalanced '[' at column {j + 1} of {text!r}: expected '[value](entity)' "
                "with a closing ']'; close the bracket or remove the '['"
            )
        value = text[j + 1 : close]
        after = close + 1
        opener = text[after] if after < n else ""
        if opener not in ("(", "{", "["):
            notes.append(
                f"'{text[j : close + 1]}' has no '(entity)' after it, so it is kept as "
                "plain text; write '[value](entity)' if it is an entity"
            )
            out.append(text[j : close + 1])
            length += close + 1 - j
            i = close + 1
            continue
        if not value.strip():
            raise DataFormatError(
                f"empty entity value '[]' at column {j + 1} of {text!r}: expected the "
                "annotated words between the brackets"
            )
        if opener == "(":
            entities, i = _parse_paren(text, value, after)
        else:
            entities, i = _parse_json(text, value, after)
        for name, canonical in entities:
            spans.append(EntitySpan(name, canonical, length, length + len(value)))
        out.append(value)
        length += len(value)
    return "".join(out), tuple(spans), notes


def _next_bracket(text: str, start: int) -> int:
    a = text.find("[", start)
    b = text.find("]", start)
    if a == -1:
        return b
    if b == -1:
        return a
    return min(a, b)


def _parse_paren(text: str, value: str, at: int) -> tuple[list[tuple[str, str]], int]:
    end = text.find(")", at + 1)
    if end == -1:
        raise DataFormatError(
            f"unbalanced '(' at column {at + 1} of {text!r}: expected '[value](entity)' "
            "with a closing ')'"
        )
    name, _, synonym = text[at + 1 : end].partition(":")
    name = name.strip()
    if not name:
        raise DataFormatError(
            f"missing entity name in '[{value}]{text[at : end + 1]}' of {text!r}: expected "
            "'[value](entity)' or '[value](entity:synonym)'"
        )
    return [(name, synonym.strip() or value)], end + 1


def _parse_json(text: str, value: str, at: int) -> tuple[list[tuple[str, str]], int]:
    try:
        obj, end = _JSON.raw_decode(text, at)
    except json.JSONDecodeError as exc:
        raise DataFormatError(
            f"bad JSON after '[{value}]' at column {at + 1} of {text!r}: {exc.msg}; expected "
            'e.g. [value]{"entity": "name", "value": "canonical"}'
        ) from exc
    items = obj if isinstance(obj, list) else [obj]
    result: list[tuple[str, str]] = []
    for item in items:
        name = item.get("entity") if isinstance(item, dict) else None
        if not isinstance(name, str) or not name.strip():
            raise DataFormatError(
                f"missing entity name in the JSON after '[{value}]' of {text!r}: expected "
                f'an object with a string "entity" key, found {json.dumps(item)}'
            )
        canonical = item.get("value", value)
        result.append((name.strip(), str(canonical)))
    return result, end


# --- Rasa YAML -------------------------------------------------------------------


def _scalar(node: yaml.Node | None) -> str | None:
    return str(node.value) if isinstance(node, yaml.ScalarNode) else None


def _mapping(node: yaml.Node) -> dict[str, tuple[yaml.Node, yaml.Node]]:
    if not isinstance(node, yaml.MappingNode):
        return {}
    return {str(k.value): (k, v) for k, v in node.value if isinstance(k, yaml.ScalarNode)}


def _block_lines(node: yaml.Node, file: str, sink: _Sink) -> Iterator[tuple[str, int]]:
    """Yield ``(item, line)`` for each ``- item`` of an ``examples:`` value.

    Handles both the block form (``examples: |`` then ``- text`` lines) and the
    list form (``examples:`` then ``- text: ...`` mappings or plain strings).
    """
    if isinstance(node, yaml.SequenceNode):
        for item in node.value:
            line = item.start_mark.line + 1
            if isinstance(item, yaml.MappingNode):
                text_node = _mapping(item).get("text")
                text = _scalar(text_node[1]) if text_node else None
                if text is None:
                    sink.error(
                        "expected each list item of 'examples' to have a 'text' key, "
                        f"found keys {sorted(_mapping(item))}",
                        file,
                        line,
                    )
                    continue
                yield text.strip(), line
            elif (text := _scalar(item)) is not None:
                yield text.strip(), line
            else:
                sink.error("expected a text in each item of 'examples'", file, line)
        return
    if not isinstance(node, yaml.ScalarNode):
        sink.error(
            "expected 'examples' to be a block ('examples: |' then '- text' lines) or a list",
            file,
            node.start_mark.line + 1,
        )
        return
    value = str(node.value)
    block = node.style in ("|", ">")
    # Content of a block scalar starts on the line after the '|' indicator.
    first = node.start_mark.line + 2 if block else node.start_mark.line + 1
    for offset, raw in enumerate(value.split("\n")):
        line = first + offset if block else first
        stripped = raw.strip()
        if not stripped:
            continue
        if not stripped.startswith("-"):
            sink.error(
                f"expected each line of 'examples' to start with '- ', found {stripped!r}; "
                "add '- ' in front of it",
                file,
                line,
            )
            continue
        yield stripped[1:].strip(), line


def _read_rasa_yaml(path: Path, sink: _Sink, *, require_nlu: bool) -> NluData | None:
    file = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        sink.error(f"expected UTF-8 text, found undecodable bytes ({exc.reason})", file, 1)
        return None
    if not require_nlu and not _NLU_KEY_LINE.search(text):
        return None
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + 1 if mark is not None else 1
        problem = getattr(exc, "problem", None) or str(exc)
        sink.error(f"YAML syntax error: {problem}; fix the YAML at this line", file, line)
        return None
    if not isinstance(root, yaml.MappingNode) or "nlu" not in _mapping(root):
        if require_nlu:
            found = sorted(_mapping(root)) if isinstance(root, yaml.MappingNode) else []
            sink.error(
                f"expected a Rasa NLU YAML file with a top-level 'nlu:' key, found keys {found}",
                file,
                1,
            )
        return None
    nlu_node = _mapping(root)["nlu"][1]
    data = NluData()
    if isinstance(nlu_node, yaml.ScalarNode) and nlu_node.value in ("", "~", "null"):
        return data
    if not isinstance(nlu_node, yaml.SequenceNode):
        sink.error(
            "expected 'nlu:' to hold a list of '- intent:' / '- synonym:' / '- lookup:' / "
            "'- regex:' items",
            file,
            nlu_node.start_mark.line + 1,
        )
        return data
    for item in nlu_node.value:
        _read_nlu_item(item, file, data, sink)
    return data


def _read_nlu_item(item: yaml.Node, file: str, data: NluData, sink: _Sink) -> None:
    line = item.start_mark.line + 1
    if not isinstance(item, yaml.MappingNode):
        sink.error(f"expected a mapping with one of the keys {list(NLU_KEYS)}", file, line)
        return
    keys = _mapping(item)
    kinds = [k for k in NLU_KEYS if k in keys]
    if len(kinds) != 1:
        sink.error(
            f"expected exactly one of the keys {list(NLU_KEYS)} in this item, "
            f"found keys {sorted(keys)}",
            file,
            line,
        )
        return
    kind = kinds[0]
    name = _scalar(keys[kind][1])
    if name is None or not name.strip():
        sink.error(f"expected a name after '{kind}:'", file, line)
        return
    name = name.strip()
    if "examples" not in keys:
        sink.error(f"{kind} '{name}' has no 'examples:'; add at least one example", file, line)
        return
    examples_node = keys["examples"][1]
    if kind in ("synonym", "lookup", "regex"):
        values = []
        for value, value_line in _block_lines(examples_node, file, sink):
            if not value:
                sink.error(f"empty example in {kind} '{name}'", file, value_line)
                continue
            values.append(value)
        if kind == "synonym":
            for value in values:
                data.synonyms[value.lower()] = name
        elif kind == "lookup":
            data.lookups.setdefault(name, []).extend(values)
        else:
            data.regexes.setdefault(name, []).extend(values)
        return
    for raw, ex_line in _block_lines(examples_node, file, sink):
        if not raw:
            sink.error(
                f"empty example in intent '{name}'; remove the line or write the example",
                file,
                ex_line,
            )
            continue
        try:
            text, spans, notes = parse_annotated(raw)
        except DataFormatError as exc:
            sink.error(exc.message, file, ex_line)
            continue
        for note in notes:
            sink.warning(note, file, ex_line)
        text = text.strip()
        if not text:
            sink.error(
                f"empty example in intent '{name}' once annotations are removed", file, ex_line
            )
            continue
        for span in spans:
            surface = text[span.start : span.end]
            if span.value != surface:
                data.synonyms[surface.lower()] = span.value
        data.examples.append(Example(text, name, spans, file, ex_line))


# --- CSV / TSV / JSONL -------------------------------------------------------------


def _pick_column(
    columns: Sequence[str], wanted: str | None, candidates: Sequence[str]
) -> str | None:
    by_lower = {c.strip().lower(): c for c in columns}
    if wanted is not None:
        return wanted if wanted in columns else by_lower.get(wanted.lower())
    for name in candidates:
        if name in by_lower:
            return by_lower[name]
    return None


def _missing_column(
    kind: str, wanted: str | None, candidates: Sequence[str], columns: Sequence[str]
) -> str:
    expected = f"named {wanted!r}" if wanted else f"named one of {list(candidates)}"
    return (
        f"expected a {kind} column {expected}, found columns {list(columns)}; pass --{kind}-column"
    )


def _read_table(
    path: Path, sink: _Sink, text_column: str | None, label_column: str | None
) -> NluData:
    data = NluData()
    file = str(path)
    delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle, delimiter=delimiter)
        header = next(reader, None)
        if not header:
            sink.error("expected a header row (e.g. 'text,label'), found an empty file", file, 1)
            return data
        text_col = _pick_column(header, text_column, TEXT_COLUMNS)
        label_col = _pick_column(header, label_column, LABEL_COLUMNS)
        if text_col is None:
            sink.error(_missing_column("text", text_column, TEXT_COLUMNS, header), file, 1)
            return data
        if label_col is None:
            sink.error(_missing_column("label", label_column, LABEL_COLUMNS, header), file, 1)
            return data
        ti, li = header.index(text_col), header.index(label_col)
        line = reader.line_num + 1
        for row in reader:
            if not any(cell.strip() for cell in row):
                line = reader.line_num + 1
                continue
            text = row[ti].strip() if ti < len(row) else ""
            label = row[li].strip() if li < len(row) else ""
            if not text:
                sink.error(f"empty text in column {text_col!r}", file, line)
            elif not label:
                sink.error(f"empty label in column {label_col!r} for {text!r}", file, line)
            else:
                data.examples.append(Example(text, label, (), file, line))
            line = reader.line_num + 1
    return data


def _read_jsonl(
    path: Path, sink: _Sink, text_column: str | None, label_column: str | None
) -> NluData:
    data = NluData()
    file = str(path)
    with path.open(encoding="utf-8-sig") as handle:
        for line, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            try:
                record = json.loads(raw)
            except json.JSONDecodeError as exc:
                sink.error(f"bad JSON: {exc.msg}; expected one JSON object per line", file, line)
                continue
            if not isinstance(record, dict):
                sink.error(f"expected a JSON object, found {type(record).__name__}", file, line)
                continue
            keys = list(record)
            text_key = _pick_column(keys, text_column, TEXT_COLUMNS)
            label_key = _pick_column(keys, label_column, ("intent", *LABEL_COLUMNS))
            if text_key is None:
                sink.error(_missing_column("text", text_column, TEXT_COLUMNS, keys), file, line)
                continue
            if label_key is None:
                sink.error(_missing_column("label", label_column, LABEL_COLUMNS, keys), file, line)
                continue
            text, label = record[text_key], record[label_key]
            if not isinstance(text, str) or not text.strip():
                sink.error(
                    f"expected a non-empty string in {text_key!r}, found {text!r}", file, line
                )
                continue
            if not isinstance(label, str) or not label.strip():
                sink.error(
                    f"expected a non-empty string in {label_key!r}, found {label!r}", file, line
                )
                continue
            spans = _jsonl_entities(record.get("entities") or [], text, file, line, sink)
            if spans is not None:
                data.examples.append(Example(text, label.strip(), spans, file, line))
    return data


def _jsonl_entities(
    raw: Any, text: str, file: str, line: int, sink: _Sink
) -> tuple[EntitySpan, ...] | None:
    spans: list[EntitySpan] = []
    for item in raw if isinstance(raw, list) else [raw]:
        ok = isinstance(item, dict) and isinstance(item.get("entity"), str)
        start, end = (item.get("start"), item.get("end")) if ok else (None, None)
        if not (
            ok and isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(text)
        ):
            sink.error(
                "expected each entity as {'entity': str, 'start': int, 'end': int} with "
                f"0 <= start < end <= {len(text)}, found {json.dumps(item)}",
                file,
                line,
            )
            return None
        value = str(item.get("value", text[start:end]))
        spans.append(EntitySpan(item["entity"], value, start, end))
    return tuple(spans)


# --- files, folders, splits ----------------------------------------------------------


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
    sink = _Sink(problems)
    splits: dict[Split, NluData] = {"train": NluData(), "test": NluData()}
    for root in _as_paths(paths):
        files = find_data_files(root, test_dir_name=test_dir_name)
        read_any = False
        for file, split in files:
            part: NluData | None
            if file.suffix.lower() in YAML_SUFFIXES:
                part = _read_rasa_yaml(file, sink, require_nlu=file == root)
            elif file.suffix.lower() == ".jsonl":
                part = _read_jsonl(file, sink, text_column, label_column)
            else:
                part = _read_table(file, sink, text_column, label_column)
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


def _as_paths(paths: str | Path | Sequence[str | Path]) -> list[Path]:
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

    Use :func:`read_splits` or :func:`load_dataset` to keep the splits apart.

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
            f"from {[str(p) for p in _as_paths(paths)]}; add examples of more intents"
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
