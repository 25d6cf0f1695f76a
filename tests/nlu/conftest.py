"""Helpers shared by the nlu tests (the trained models live in tests/conftest.py)."""

from __future__ import annotations

from pathlib import Path


def line_of(path: Path, snippet: str) -> int:
    """1-based number of the first line of ``path`` containing ``snippet``."""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if snippet in line:
            return number
    raise AssertionError(f"{snippet!r} not in {path}")
