"""The house rules on who imports whom, read off the source (every import, also lazy ones).

`nlu` never imports `bot` or `actions`; `bot` reaches the action server only over
HTTP, so it never imports `actions` (nor `actions` the bot); `core` is the light layer
under everything and imports no package of the project and nothing heavy.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("core", "privacy", "nlu", "recs", "bot", "actions", "shopintent")
# Which of the project's packages each package may import (besides itself).
ALLOWED: dict[str, set[str]] = {
    "core": set(),
    "privacy": {"core"},
    "nlu": {"core", "privacy"},
    "recs": {"core", "privacy"},
    "bot": {"core", "nlu", "privacy"},
    "actions": {"core", "privacy", "recs"},
    "shopintent": set(PACKAGES),
}
# What the light layer must never pull in, directly or through what it imports.
HEAVY = ("torch", "transformers", "fastapi", "starlette", "rasa_sdk", "sanic", "onnxruntime")


def imported_packages(package: str) -> dict[str, set[str]]:
    """The project packages each module of `package` imports, by module path."""
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
        found[str(path.relative_to(ROOT))] = {n for n in names if n in PACKAGES} - {package}
    return found


@pytest.mark.parametrize("package", PACKAGES)
def test_each_package_imports_only_what_the_house_allows(package: str) -> None:
    broken = {
        module: sorted(names - ALLOWED[package])
        for module, names in imported_packages(package).items()
        if names - ALLOWED[package]
    }
    assert not broken, f"{package} may import only {sorted(ALLOWED[package])}; found {broken}"


def test_the_rules_see_lazy_imports_too() -> None:
    # `bot/model.py` imports `nlu` inside functions: the reader must count those.
    assert "nlu" in imported_packages("bot")["bot/model.py"]


def test_core_loads_nothing_heavy() -> None:
    code = (
        "import sys, core, core.wire, core.paths, core.db, core.signing, core.settings,"
        " core.config, core.artifacts, core.lazy, core.errors\n"
        f"heavy = [m for m in {HEAVY!r} if m in sys.modules]\n"
        "print(','.join(heavy))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == ""
