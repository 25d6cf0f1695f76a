"""Tabular training data: CSV/TSV files and JSONL files, one example per row or line.

The text and label columns are found by name (:data:`TEXT_COLUMNS`,
:data:`LABEL_COLUMNS`, case-insensitive) unless the caller names them
(``--text-column`` / ``--label-column``). CSV/TSV rows carry no entities; a JSONL
record may list them as ``{"entity", "start", "end"}`` offsets into its text.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from nlu.data.types import EntitySpan, Example, NluData, ProblemSink

TABLE_SUFFIXES = (".csv", ".tsv", ".jsonl")
TEXT_COLUMNS = ("text", "utterance", "query", "instruction", "sentence", "message", "example")
LABEL_COLUMNS = ("label", "intent", "category", "class")


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


def read_table(
    path: Path, sink: ProblemSink, text_column: str | None, label_column: str | None
) -> NluData:
    """Read a CSV file (a TSV file when its suffix is ``.tsv``) with a header row.

    Args:
        path: The file.
        sink: Where malformed rows go (raises when strict, collects when lenient).
        text_column: The column holding the text (auto-detected if None).
        label_column: The column holding the intent (auto-detected if None).

    Returns:
        One example per non-blank row, with its 1-based line.

    Raises:
        DataFormatError: In strict mode, on a missing column or the first bad row.
    """
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


def read_jsonl(
    path: Path, sink: ProblemSink, text_column: str | None, label_column: str | None
) -> NluData:
    """Read a JSONL file: one JSON object per line with a text, a label and maybe entities.

    Args:
        path: The file.
        sink: Where malformed lines go (raises when strict, collects when lenient).
        text_column: The key holding the text (auto-detected if None).
        label_column: The key holding the intent (auto-detected if None, ``intent`` first).

    Returns:
        One example per non-blank line, with its 1-based line.

    Raises:
        DataFormatError: In strict mode, on the first malformed line.
    """
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
    raw: Any, text: str, file: str, line: int, sink: ProblemSink
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
