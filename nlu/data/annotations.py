"""Rasa inline entity annotations: ``[value](entity)`` and its JSON forms.

:func:`parse_annotated` turns one example as written in a Rasa YAML file into the
plain text and the entity spans indexed into it; the Rasa YAML reader
(``nlu.data.rasa_yaml``) calls it on every intent example. The inverse, writing
spans back inline, is ``nlu.data.rasa_yaml.format_example``.

>>> parse_annotated("ship to [Berlin](city)")
('ship to Berlin', (EntitySpan(entity='city', value='Berlin', start=8, end=14),), [])
"""

from __future__ import annotations

import json

from nlu.data.types import DataFormatError, EntitySpan

_JSON = json.JSONDecoder()


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
