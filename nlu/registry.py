"""A versioned model registry: one folder per model version and a pointer to the one serving.

Layout under the registry root (default `models/`)::

    models/registry.json        # {"current": VERSION, "history": [...], "versions": {...}}
    models/versions/<version>/  # one artifact (save_pretrained + shopintent.json)

`registry.json` is always replaced atomically (write a temp file, `os.replace`), so a
reader never sees half a file, and its stat changes whenever the pointer moves; that is
what `LiveModel` watches to swap in a promoted model without restarting the bot.

Fail-safe rules: `promote` and `rollback` first load the model and parse one message
(`smoke_test`) and refuse one that fails; version names are checked
(`VERSION_NAME`) and every folder the registry resolves stays inside its root; a bot
whose promoted model does not load serves the last good one of the history and says
why (`LiveModel.degraded_reason`).

The file's format, locking and version names are `nlu.registry_file`; serving the
current model and swapping in a promoted one is `nlu.live_model.LiveModel` (both
re-exported here).

>>> registry = Registry(Path("models"))
>>> registry.current_path()  # doctest: +SKIP
PosixPath('models/versions/20261128T020000-3f2a9c1b')
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from core.paths import ARTIFACT_FILE
from nlu.live_model import LiveModel as LiveModel
from nlu.registry_file import FORMAT as FORMAT
from nlu.registry_file import LOCK_FILE as LOCK_FILE
from nlu.registry_file import REGISTRY_FILE as REGISTRY_FILE
from nlu.registry_file import VERSION_NAME as VERSION_NAME
from nlu.registry_file import InvalidVersionError as InvalidVersionError
from nlu.registry_file import (
    ModelVersion,
    RegistryError,
    RegistryState,
    Status,
    check_version_name,
    locked_state,
    read_state,
)

VERSIONS_DIR = "versions"
# What `smoke_test` (and the bot, before it swaps a model in) parses.
SMOKE_TEXT = "where is my order?"


class UnknownVersionError(RegistryError):
    """A command named a model version the registry does not hold."""


class RollbackError(RegistryError):
    """There is no earlier promoted version to roll back to."""


class BrokenModelError(RegistryError):
    """A model folder does not load, or the loaded model cannot parse a message."""


def smoke_test(folder: Path) -> None:
    """Load the model in `folder` and parse one message, on every backend it can serve with.

    A server may run any of them (`SHOPINTENT_NLU_BACKEND`), so each one it has here
    (PyTorch when installed, each ONNX file whose export check passed) must work.

    Raises:
        BrokenModelError: Loading or parsing failed (damaged weights, tokenizer, ...).
    """
    from nlu.artifact import ArtifactMeta
    from nlu.backends import onnxruntime_available, torch_available, usable_onnx
    from nlu.classifier import IntentClassifier

    backend = "auto"
    try:
        meta = ArtifactMeta.load(folder)
        backends = [*usable_onnx(meta, folder)] if onnxruntime_available() else []
        if torch_available() or not backends:
            backends.append("torch")
        for backend in backends:
            IntentClassifier.load(folder, num_threads=1, backend=backend).parse(SMOKE_TEXT)
    except Exception as exc:
        raise BrokenModelError(
            f"expected the model in {folder} to load and parse {SMOKE_TEXT!r} (backend "
            f"{backend}), but it failed ({type(exc).__name__}: {exc}); the serving model was "
            "left as it was. Retrain it (`shopintent retrain`) or register an intact copy."
        ) from exc


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class Registry:
    """Versioned model folders under one root, with a `current` pointer and a history.

    Args:
        root: The registry folder (created on first write).
        check: Run on a version's folder before `promote` or `rollback` points at it;
            raises when the model is unusable (default: `smoke_test`).
    """

    def __init__(self, root: Path | str, *, check: Callable[[Path], object] | None = None) -> None:
        self.root = Path(root)
        self._check = check

    @property
    def file(self) -> Path:
        """The `registry.json` path."""
        return self.root / REGISTRY_FILE

    # -- reading -----------------------------------------------------------------

    def load(self) -> RegistryState:
        """Read `registry.json`; an absent file is an empty registry.

        Raises:
            RegistryError: The file is not valid JSON of the expected shape.
        """
        return read_state(self.file)

    def versions(self) -> list[ModelVersion]:
        """All versions, oldest first."""
        return sorted(self.load().versions.values(), key=lambda v: v.version)

    def get(self, version: str) -> ModelVersion:
        """Look up one version.

        Raises:
            UnknownVersionError: The registry does not hold `version`.
        """
        state = self.load()
        return self._get(state, version)

    def _get(self, state: RegistryState, version: str) -> ModelVersion:
        check_version_name(version)
        try:
            return state.versions[version]
        except KeyError:
            known = ", ".join(sorted(state.versions)) or "none"
            raise UnknownVersionError(
                f"expected one of the registered versions ({known}), but found {version!r}; "
                "run `shopintent models list` to see them."
            ) from None

    def current(self) -> ModelVersion | None:
        """The version serving now, or None while nothing was promoted."""
        state = self.load()
        return state.versions.get(state.current) if state.current else None

    def path_for(self, entry: ModelVersion) -> Path:
        """Folder of a version's artifact (root-relative), checked to lie inside the root.

        Raises:
            InvalidVersionError: The recorded path leads outside the registry folder.
        """
        path = self.root / entry.path
        root = self.root.resolve()
        resolved = path.resolve()
        if resolved == root or not resolved.is_relative_to(root):
            raise InvalidVersionError(
                f"expected the folder of {entry.version!r} inside {root}, but {self.file} "
                f"records {entry.path!r}, which resolves to {resolved}; restore "
                f"registry.json or re-register the model."
            )
        return path

    def path_of(self, version: str) -> Path:
        """Root-relative folder of a version's artifact."""
        return self.path_for(self.get(version))

    def current_path(self) -> Path | None:
        """Folder of the serving model, or None while nothing was promoted."""
        current = self.current()
        return self.path_for(current) if current else None

    def stamp(self) -> tuple[int, int, int] | None:
        """A cheap fingerprint of `registry.json` (one stat call) that changes on every write."""
        try:
            st = self.file.stat()
        except FileNotFoundError:
            return None
        return (st.st_mtime_ns, st.st_ino, st.st_size)

    # -- writing -----------------------------------------------------------------

    def staging_dir(self) -> Path:
        """Create an empty folder inside the registry for a trainer to write a new artifact to.

        `register` then moves it to `versions/<model_version>`; a run that dies half-way
        leaves only a `.staging-*` folder behind, never a half-registered version.
        """
        versions_dir = self.root / VERSIONS_DIR
        versions_dir.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(dir=versions_dir, prefix=".staging-"))

    def register(
        self,
        folder: Path,
        *,
        source: str,
        note: str = "",
        metrics: dict[str, float] | None = None,
    ) -> ModelVersion:
        """Add a model artifact to the registry as a candidate.

        The version name is the artifact's own `model_version` (creation time and data
        hash), the same string the classifier reports and the bot stores with each turn.
        A folder from `staging_dir` is moved in place; any other folder is copied, so a
        registered version never changes under the registry.

        Args:
            folder: A model directory holding `shopintent.json`.
            source: How the model was made (`retrain`, `register`).
            note: Free text kept with the version.
            metrics: Numbers kept with the version.

        Returns:
            The new (or already present) registry entry.

        Raises:
            RegistryError: The folder is not a model artifact.
            InvalidVersionError: The artifact's version is not a safe folder name.
        """
        from nlu.artifact import ArtifactMeta

        folder = Path(folder)
        if not (folder / ARTIFACT_FILE).is_file():
            raise RegistryError(
                f"expected a model folder with {ARTIFACT_FILE} (written by `shopintent train`), "
                f"but {folder} has none; train a model into it first."
            )
        version = check_version_name(ArtifactMeta.load(folder).model_version)
        target = self.root / VERSIONS_DIR / version
        self.path_for(ModelVersion(version, f"{VERSIONS_DIR}/{version}", "", ""))
        with locked_state(self.root) as state:
            if version in state.versions and (self.root / state.versions[version].path).is_dir():
                if folder.parent == target.parent and folder.name.startswith(".staging-"):
                    shutil.rmtree(folder, ignore_errors=True)
                return state.versions[version]
            target.parent.mkdir(parents=True, exist_ok=True)
            if folder.parent.resolve() == target.parent.resolve():
                os.replace(folder, target)
            else:
                shutil.copytree(folder, target, dirs_exist_ok=True)
                note = note or f"copied from {folder}"
            entry = ModelVersion(
                version=version,
                path=f"{VERSIONS_DIR}/{version}",
                created_at=_now(),
                source=source,
                note=note,
                metrics=dict(metrics or {}),
            )
            state.versions[version] = entry
        return entry

    def annotate(
        self,
        version: str,
        *,
        status: Status | None = None,
        note: str | None = None,
        metrics: dict[str, float] | None = None,
    ) -> ModelVersion:
        """Update a version's status, note or metrics (the pointer does not move)."""
        with locked_state(self.root) as state:
            entry = self._get(state, version)
            if status is not None:
                entry.status = status
            if note is not None:
                entry.note = note
            if metrics:
                entry.metrics.update(metrics)
        return entry

    def _usable(self, entry: ModelVersion) -> Path:
        """The version's folder, once it holds an artifact that passes the check."""
        folder = self.path_for(entry)
        if not (folder / ARTIFACT_FILE).is_file():
            raise RegistryError(
                f"expected the artifact of {entry.version} at {folder}, but it "
                "is missing; retrain or re-register the model."
            )
        (self._check or smoke_test)(folder)
        return folder

    def promote(self, version: str) -> ModelVersion:
        """Make `version` the serving model; running bots pick it up within seconds.

        The model is loaded and parses one message first; the pointer moves only when
        that works.

        Raises:
            UnknownVersionError: The registry does not hold `version`.
            RegistryError: The version's folder is gone.
            BrokenModelError: The model does not load or parse (the pointer stays).
        """
        self._usable(self.get(version))
        with locked_state(self.root) as state:
            entry = self._get(state, version)
            entry.status = "promoted"
            if state.current != version:
                state.current = version
                state.history.append(version)
        return entry

    def rollback(self) -> ModelVersion:
        """Serve the version promoted before the current one again.

        Raises:
            RollbackError: Fewer than two promotions are recorded.
            BrokenModelError: The earlier version does not load or parse (nothing changes).
        """
        history = self.load().history
        if len(history) >= 2:
            self._usable(self.get(history[-2]))
        with locked_state(self.root) as state:
            if len(state.history) < 2:
                raise RollbackError(
                    "expected an earlier promoted version to roll back to, but the history "
                    f"holds {state.history or 'nothing'}; promote a version by name with "
                    "`shopintent models promote VERSION` instead."
                )
            state.history.pop()
            state.current = state.history[-1]
            entry = self._get(state, state.current)
        return entry
