"""`registry.json`: its format, version names, and reading and replacing it safely.

The file holds `{"format": 1, "current": VERSION, "history": [...], "versions": {...}}`
(`RegistryState`, one `ModelVersion` per version). Writers take an exclusive lock
(`locked_state`), read, change and save it; saving writes a temp file and `os.replace`s
it, so a reader never sees half a file and its stat changes on every write. A version
name is one safe folder name (`check_version_name`). The operations on top of the file
(register, promote, rollback) are `nlu.registry.Registry`.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import tempfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from nlu.errors import NluError

REGISTRY_FILE = "registry.json"
LOCK_FILE = ".registry.lock"
FORMAT = 1
# A version name is one folder name: no separators, no "..", not hidden.
VERSION_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")

Status = Literal["candidate", "promoted", "rejected"]


class RegistryError(NluError):
    """The registry file or folder is missing, unreadable or inconsistent."""


class InvalidVersionError(RegistryError):
    """A version name is not one safe folder name, or a path leaves the registry."""


def check_version_name(version: str) -> str:
    """Return `version` if it is a safe folder name for the registry.

    Raises:
        InvalidVersionError: It is empty, too long, holds a separator or `..`, or
            starts with a dot or a dash.
    """
    if not isinstance(version, str) or not VERSION_NAME.fullmatch(version) or ".." in version:
        raise InvalidVersionError(
            f"expected a version name of letters, digits, '.', '_' and '-' (1-100 "
            f"characters, starting with a letter or digit, no '..'), like "
            f"20261128T020000-3f2a9c1b, but found {version!r}; the name comes from the "
            "artifact's `created` and `data_hash` fields, so fix those in shopintent.json."
        )
    return version


@dataclass
class ModelVersion:
    """One model version held by the registry.

    Attributes:
        version: The artifact's `model_version` (creation time + training-data hash).
        path: Folder of the artifact, relative to the registry root.
        created_at: ISO-8601 UTC time the version was registered.
        source: How it got here: `retrain`, `register` (an existing folder copied in).
        status: `candidate` (never served), `promoted` (served now or before), `rejected`.
        note: Free text: the gate's verdict, the folder it was copied from, ...
        metrics: Evaluation numbers worth keeping next to the version (macro-F1, ...).
    """

    version: str
    path: str
    created_at: str
    source: str
    status: Status = "candidate"
    note: str = ""
    metrics: dict[str, float] = field(default_factory=dict)


@dataclass
class RegistryState:
    """The parsed content of `registry.json`."""

    current: str | None = None
    history: list[str] = field(default_factory=list)
    versions: dict[str, ModelVersion] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "current": self.current,
            "history": self.history,
            "versions": {name: asdict(v) for name, v in self.versions.items()},
        }

    @classmethod
    def from_json(cls, data: dict[str, Any], where: Path) -> RegistryState:
        if not isinstance(data, dict) or not isinstance(data.get("versions", {}), dict):
            raise RegistryError(
                f"expected {where} to hold a JSON object with 'current', 'history' and "
                f"'versions', but found {type(data).__name__}; restore it from a backup or "
                "delete it and re-register the model folders with `shopintent models register`."
            )
        try:
            versions = {
                str(name): ModelVersion(**{k: v for k, v in entry.items() if k in _VERSION_FIELDS})
                for name, entry in data.get("versions", {}).items()
            }
            current, history = data.get("current"), data.get("history", [])
            if not isinstance(history, list) or not isinstance(current, str | None):
                raise TypeError("'current' must be a string or null, 'history' a list")
            if not all(
                isinstance(v.path, str) and isinstance(v.version, str) for v in versions.values()
            ):
                raise TypeError("each version's 'version' and 'path' must be strings")
        except (TypeError, AttributeError) as exc:
            raise RegistryError(
                f"expected {where} to hold versions with 'version', 'path', 'created_at' and "
                f"'source', but it does not ({exc}); restore it from a backup or delete it and "
                "re-register the model folders with `shopintent models register`."
            ) from exc
        return cls(current=current, history=[str(v) for v in history], versions=versions)


_VERSION_FIELDS = set(ModelVersion.__dataclass_fields__)


def read_state(file: Path) -> RegistryState:
    """Read a `registry.json`; an absent file is an empty registry.

    Raises:
        RegistryError: The file is not valid JSON of the expected shape.
    """
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        return RegistryState()
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise RegistryError(
            f"expected {file} to be JSON, but it does not parse ({exc}); restore it "
            "from a backup or delete it and re-register the model folders."
        ) from exc
    return RegistryState.from_json(data, file)


def save_state(root: Path, state: RegistryState) -> None:
    """Replace `root/registry.json` with `state` atomically (temp file + `os.replace`)."""
    fd, tmp = tempfile.mkstemp(dir=root, prefix=".registry-", suffix=".json")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(state.to_json(), f, indent=2)
            f.write("\n")
        os.replace(tmp, root / REGISTRY_FILE)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def locked_state(root: Path) -> Iterator[RegistryState]:
    """Read-modify-write `root/registry.json` under an exclusive file lock; saves on exit."""
    root.mkdir(parents=True, exist_ok=True)
    with open(root / LOCK_FILE, "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            state = read_state(root / REGISTRY_FILE)
            yield state
            save_state(root, state)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
