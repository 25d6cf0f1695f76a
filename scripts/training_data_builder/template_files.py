"""The hand-written phrasings, read from the YAML files in `templates/`.

* `products.yml`: per product intent, the templates the catalog fills, and the words
  for the plain slots (`{item}`, `{who}`, `{occasion}`, `{aspect}`);
* `smalltalk.yml`: per small-talk intent, its core phrasings and the openers and
  closers of their variants;
* `support.yml`: per support intent, the conversational phrasings (`{id}` is an
  order number).

Each file keeps its licence notice. The order of every list is part of the output
(the seeded draws follow it). Each reader checks its file's shape and says what it
expected; the files are read once.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from .config import ROOT, TrainingDataError

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"


@dataclass(frozen=True)
class SmallTalk:
    """One small-talk intent: its phrasings, and the openers and closers of variants."""

    core: tuple[str, ...]
    pre: tuple[str, ...]
    post: tuple[str, ...]


@lru_cache
def _mapping(name: str) -> dict[str, Any]:
    path = TEMPLATES_DIR / name
    if not path.is_file():
        raise TrainingDataError(
            f"expected the templates at {path}, but it was not found; "
            f"restore {path.relative_to(ROOT)} from git"
        )
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not data:
        raise TrainingDataError(
            f"expected {path} to hold a mapping of names to lists, but found "
            f"{type(data).__name__}; restore the file from git"
        )
    return data


def _texts(value: object, where: str, *, allow_empty: bool = False) -> tuple[str, ...]:
    """Check that `value` is a non-empty list of strings (empty strings only if allowed)."""
    if (
        not isinstance(value, list)
        or not value
        or not all(isinstance(v, str) and (v or allow_empty) for v in value)
    ):
        raise TrainingDataError(
            f"expected {where} to be a non-empty list of texts, but found {value!r}; "
            'write one text per `- ` line and quote any that YAML reads otherwise ("yes")'
        )
    return tuple(value)


def _section(name: str, key: str) -> dict[str, Any]:
    section = _mapping(name).get(key)
    if not isinstance(section, dict) or not section:
        raise TrainingDataError(
            f"expected a `{key}:` mapping in templates/{name}, but found {section!r}; "
            "restore the file from git"
        )
    return section


@lru_cache
def product_templates() -> dict[str, tuple[str, ...]]:
    """Per product intent, its templates, in file order."""
    intents = _section("products.yml", "intents")
    return {
        str(i): _texts(t, f"intent {i!r} in templates/products.yml") for i, t in intents.items()
    }


@lru_cache
def slot_words() -> dict[str, tuple[str, ...]]:
    """The words of each plain slot (`item`, `who`, `occasion`, `aspect`)."""
    slots = _section("products.yml", "slots")
    return {str(s): _texts(w, f"slot {s!r} in templates/products.yml") for s, w in slots.items()}


@lru_cache
def smalltalk() -> dict[str, SmallTalk]:
    """Per small-talk intent, its phrasings, in file order."""
    out: dict[str, SmallTalk] = {}
    for intent, parts in _mapping("smalltalk.yml").items():
        where = f"intent {intent!r} in templates/smalltalk.yml"
        if not isinstance(parts, dict):
            raise TrainingDataError(
                f"expected {where} to have `core`, `pre` and `post` lists, but found "
                f"{parts!r}; fix that entry"
            )
        out[str(intent)] = SmallTalk(
            core=_texts(parts.get("core"), f"`core` of {where}"),
            pre=_texts(parts.get("pre"), f"`pre` of {where}", allow_empty=True),
            post=_texts(parts.get("post"), f"`post` of {where}", allow_empty=True),
        )
    return out


@lru_cache
def support_phrasings() -> dict[str, tuple[str, ...]]:
    """Per support intent, its phrasings, in file order."""
    return {
        str(i): _texts(t, f"intent {i!r} in templates/support.yml")
        for i, t in _mapping("support.yml").items()
    }
