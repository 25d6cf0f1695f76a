"""Rasa 3.x NLU YAML: the reader of ``nlu:`` files and the one writer of them.

Reading: :func:`read_rasa_yaml` walks the composed YAML node tree (not the loaded
data) so each example keeps its 1-based line for error messages, strips the inline
annotations (``nlu.data.annotations``) and collects synonyms, lookups and regexes.
Writing: :func:`write_rasa_nlu` (via :func:`render_rasa_nlu` and
:func:`format_example`) is the one writer of Rasa 3.1 NLU files in the project;
the review export and ``shopintent data import`` (``nlu.importer``) both use it.

>>> print(render_rasa_nlu([Example("hi there", "greet")]), end="")
version: "3.1"
<BLANKLINE>
nlu:
- intent: greet
  examples: |
    - hi there
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterator, Sequence
from pathlib import Path

import yaml

from nlu.data.annotations import parse_annotated
from nlu.data.types import DataFormatError, Example, NluData, ProblemSink

YAML_SUFFIXES = (".yml", ".yaml")
NLU_KEYS = ("intent", "synonym", "regex", "lookup")
RASA_VERSION = "3.1"

_NLU_KEY_LINE = re.compile(r"^nlu\s*:", re.MULTILINE)
_ANNOTATION_LOOKALIKE = re.compile(r"\](?=[({\[])")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


# --- reading ---------------------------------------------------------------------


def _scalar(node: yaml.Node | None) -> str | None:
    return str(node.value) if isinstance(node, yaml.ScalarNode) else None


def _mapping(node: yaml.Node) -> dict[str, tuple[yaml.Node, yaml.Node]]:
    if not isinstance(node, yaml.MappingNode):
        return {}
    return {str(k.value): (k, v) for k, v in node.value if isinstance(k, yaml.ScalarNode)}


def _block_lines(node: yaml.Node, file: str, sink: ProblemSink) -> Iterator[tuple[str, int]]:
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


def read_rasa_yaml(path: Path, sink: ProblemSink, *, require_nlu: bool) -> NluData | None:
    """Read one Rasa NLU YAML file.

    Args:
        path: The ``.yml``/``.yaml`` file.
        sink: Where malformed lines go (raises when strict, collects when lenient).
        require_nlu: Whether a file without a top-level ``nlu:`` key is an error
            (the path was named directly) or is skipped (found in a folder, e.g. a
            Rasa ``domain.yml``).

    Returns:
        The file's examples and side tables, or None when the file could not be
        read or holds no NLU data.

    Raises:
        DataFormatError: In strict mode, on the first malformed line.
    """
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


def _read_nlu_item(item: yaml.Node, file: str, data: NluData, sink: ProblemSink) -> None:
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


# --- writing ---------------------------------------------------------------------


def clean_text(text: str) -> str:
    """Put a message on one line, without control characters, as Rasa YAML needs it."""
    text = unicodedata.normalize("NFC", _CONTROL.sub(" ", text))
    return " ".join(text.split())


def format_example(example: Example) -> str:
    """Write one example in Rasa's inline form, `[value](entity)` around each entity.

    Plain text that merely looks like an annotation (`[EMAIL](work)`) gets a space after
    the `]`, so Rasa does not read an entity the data never had.
    """
    text = example.text
    spans = sorted(
        (s for s in example.entities if 0 <= s.start < s.end <= len(text)), key=lambda s: s.start
    )
    out: list[str] = []
    at = 0
    for span in spans:
        if span.start < at:  # overlapping spans cannot be written inline; keep the first
            continue
        out.append(_ANNOTATION_LOOKALIKE.sub("] ", text[at : span.start]))
        value = text[span.start : span.end]
        if span.value != value:
            spec = json.dumps({"entity": span.entity, "value": span.value}, ensure_ascii=False)
            out.append(f"[{value}]{spec}")
        else:
            out.append(f"[{value}]({span.entity})")
        at = span.end
    out.append(_ANNOTATION_LOOKALIKE.sub("] ", text[at:]))
    return clean_text("".join(out))


def render_rasa_nlu(
    examples: Sequence[Example],
    *,
    synonyms: dict[str, str] | None = None,
    lookups: dict[str, list[str]] | None = None,
    regexes: dict[str, list[str]] | None = None,
    comment: str | None = None,
    spaced: bool = False,
) -> str:
    """Render examples (grouped by intent, in first-seen order) as a Rasa 3.1 NLU document.

    Args:
        examples: The examples; each intent's block lists them in this order.
        synonyms: Variant -> canonical value, written as ``- synonym:`` items.
        lookups: Lookup table name -> values.
        regexes: Regex name -> patterns.
        comment: Text for a ``#`` comment at the top (one ``#`` line per line).
        spaced: Put a blank line after the comment and after each item, the layout
            of the files ``scripts/build_training_data.py`` writes.

    Returns:
        The document, ending in one newline.
    """
    by_intent: dict[str, list[str]] = {}
    for example in examples:
        by_intent.setdefault(example.intent, []).append(format_example(example))
    gap = [""] if spaced else []
    lines: list[str] = []
    if comment:
        lines += [f"# {line}".rstrip() for line in comment.splitlines()] + gap
    lines += [f'version: "{RASA_VERSION}"', "", "nlu:"]
    for intent, texts in by_intent.items():
        lines += [f"- intent: {intent}", "  examples: |"]
        lines += [f"    - {text}" for text in texts] + gap
    by_value: dict[str, list[str]] = {}
    for variant, canonical in (synonyms or {}).items():
        by_value.setdefault(canonical, []).append(variant)
    for canonical, variants in by_value.items():
        lines += [f"- synonym: {canonical}", "  examples: |"]
        lines += [f"    - {clean_text(v)}" for v in variants] + gap
    for name, values in (lookups or {}).items():
        lines += [f"- lookup: {name}", "  examples: |"]
        lines += [f"    - {clean_text(v)}" for v in values] + gap
    for name, patterns in (regexes or {}).items():
        lines += [f"- regex: {name}", "  examples: |"]
        lines += [f"    - {p}" for p in patterns] + gap
    if not by_intent and not by_value and not lookups and not regexes:
        lines[-1] = "nlu: []"
    if spaced and lines[-1] == "":
        lines.pop()
    return "\n".join(lines) + "\n"


def write_rasa_nlu(path: Path, examples: Sequence[Example], **kwargs: object) -> Path:
    """Write examples as a Rasa 3.1 NLU file (see `render_rasa_nlu` for the options)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_rasa_nlu(examples, **kwargs), encoding="utf-8")  # type: ignore[arg-type]
    return path
