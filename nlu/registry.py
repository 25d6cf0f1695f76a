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

>>> registry = Registry(Path("models"))
>>> registry.current_path()  # doctest: +SKIP
PosixPath('models/versions/20261128T020000-3f2a9c1b')
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Generic, Literal, TypeVar

from nlu.errors import NluError

logger = logging.getLogger(__name__)

REGISTRY_FILE = "registry.json"
LOCK_FILE = ".registry.lock"
VERSIONS_DIR = "versions"
ARTIFACT_FILE = "shopintent.json"
FORMAT = 1
# A version name is one folder name: no separators, no "..", not hidden.
VERSION_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
# What `smoke_test` (and the bot, before it swaps a model in) parses.
SMOKE_TEXT = "where is my order?"

Status = Literal["candidate", "promoted", "rejected"]


class RegistryError(NluError):
    """The registry file or folder is missing, unreadable or inconsistent."""


class UnknownVersionError(RegistryError):
    """A command named a model version the registry does not hold."""


class RollbackError(RegistryError):
    """There is no earlier promoted version to roll back to."""


class InvalidVersionError(RegistryError):
    """A version name is not one safe folder name, or a path leaves the registry."""


class BrokenModelError(RegistryError):
    """A model folder does not load, or the loaded model cannot parse a message."""


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
        try:
            text = self.file.read_text(encoding="utf-8")
        except FileNotFoundError:
            return RegistryState()
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise RegistryError(
                f"expected {self.file} to be JSON, but it does not parse ({exc}); restore it "
                "from a backup or delete it and re-register the model folders."
            ) from exc
        return RegistryState.from_json(data, self.file)

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

    @contextlib.contextmanager
    def _locked(self) -> Iterator[RegistryState]:
        """Read-modify-write under an exclusive file lock; saves the state on exit."""
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / LOCK_FILE, "a+") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                state = self.load()
                yield state
                self._save(state)
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _save(self, state: RegistryState) -> None:
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".registry-", suffix=".json")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(state.to_json(), f, indent=2)
                f.write("\n")
            os.replace(tmp, self.file)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise

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
        with self._locked() as state:
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
        with self._locked() as state:
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
        with self._locked() as state:
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
        with self._locked() as state:
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


M = TypeVar("M")


class LiveModel(Generic[M]):
    """Serves the registry's current model and swaps in a newly promoted one live.

    `get()` costs one `stat` at most every `check_interval` seconds. When the pointer
    moved, the new model loads in a background thread while requests keep using the
    old one; the swap is a single reference assignment, so no request is dropped or
    sees half a model. A model that fails to load is logged and the old one keeps serving.

    At start-up a current version that fails to load (or a `registry.json` that does not
    parse) falls back to the versions promoted before it, newest first, then to
    `fallback`. Whenever the model serving is not the one the registry points at,
    `degraded_reason` says why.

    Args:
        registry: Where to look for the current pointer.
        loader: Loads a model folder (e.g. `IntentClassifier.load`).
        fallback: Folder to serve while the registry has no current version (e.g. `models/default`).
        check_interval: Seconds between two looks at the registry.
        use_registry: False serves `fallback` only and never looks at the registry.
        probe: Run on a freshly loaded model before it serves (e.g. parse one message);
            raising counts as a failed load.
    """

    def __init__(
        self,
        registry: Registry,
        loader: Callable[[Path], M],
        *,
        fallback: Path | None = None,
        check_interval: float = 2.0,
        use_registry: bool = True,
        probe: Callable[[M], object] | None = None,
    ) -> None:
        self.registry = registry
        self.use_registry = use_registry
        self.loader = loader
        self.fallback = fallback
        self.check_interval = check_interval
        self.probe = probe
        self._model: M | None = None
        self._version: str | None = None
        self._stamp: tuple[int, int, int] | None = None
        self._checked_at = 0.0
        self._lock = threading.Lock()
        self._loading: threading.Thread | None = None
        self.last_error: str | None = None
        self._degraded: str | None = None

    def _load(self, path: Path) -> M:
        model = self.loader(path)
        if self.probe is not None:
            self.probe(model)
        return model

    def _candidates(self) -> tuple[list[tuple[Path, str | None]], list[str]]:
        """What to try at start-up, best first, and the problems found on the way."""
        candidates: list[tuple[Path, str | None]] = []
        problems: list[str] = []
        if self.use_registry:
            try:
                state = self.registry.load()
            except RegistryError as exc:
                problems.append(str(exc))
                state = RegistryState()
            names = [state.current] if state.current else []
            names += [v for v in reversed(state.history) if v not in names]
            for name in dict.fromkeys(names):
                entry = state.versions.get(name) if name else None
                if entry is None:
                    continue
                try:
                    candidates.append((self.registry.path_for(entry), entry.version))
                except RegistryError as exc:
                    problems.append(str(exc))
        if self.fallback is not None:
            candidates.append((self.fallback, None))
        return candidates, problems

    def load_now(self) -> M:
        """Load the current model synchronously (or the last good one); call once at start-up.

        Raises:
            RegistryError: Neither a current version nor a fallback folder exists.
            Exception: What loading the only (or the first) candidate raised, when none loads.
        """
        self._stamp = self.registry.stamp() if self.use_registry else None
        candidates, problems = self._candidates()
        if not candidates:
            if problems:
                raise RegistryError("; ".join(problems))
            raise RegistryError(
                f"expected a promoted model in {self.registry.file} or a fallback model folder, "
                "but found neither; train one with `shopintent train` or `shopintent retrain`."
            )
        first_error: Exception | None = None
        for path, version in candidates:
            try:
                model = self._load(path)
            except Exception as exc:
                first_error = first_error or exc
                problems.append(f"{version or path} failed to load ({type(exc).__name__}: {exc})")
                logger.exception("could not load the model %s", version or path)
                continue
            with self._lock:
                self._model, self._version = model, version
                self._degraded = (
                    "; ".join([*problems, f"serving {version or path} instead"])
                    if problems
                    else None
                )
            if self._degraded:
                logger.error("model degraded: %s", self._degraded)
            self._checked_at = time.monotonic()
            return model
        raise first_error or RegistryError("; ".join(problems))

    @property
    def version(self) -> str | None:
        """Registry version of the model being served (None for the fallback folder)."""
        return self._version

    @property
    def degraded_reason(self) -> str | None:
        """Why the model serving is not the registry's current one (None when it is)."""
        return self._degraded

    def get(self) -> M:
        """The model to answer this request with; may start a background reload."""
        if self._model is None:
            return self.load_now()
        self.maybe_reload()
        return self._model

    def maybe_reload(self, *, wait: bool = False) -> None:
        """Look at the registry (rate-limited) and start loading a newly promoted model."""
        if not self.use_registry:
            return
        now = time.monotonic()
        if not wait and now - self._checked_at < self.check_interval:
            return
        self._checked_at = now
        stamp = self.registry.stamp()
        if stamp == self._stamp:
            return
        with self._lock:
            if self._loading is not None and self._loading.is_alive():
                return
            self._loading = threading.Thread(
                target=self._reload, args=(stamp,), name="shopintent-model-reload", daemon=True
            )
            self._loading.start()
            thread = self._loading
        if wait:
            thread.join()

    def _reload(self, stamp: tuple[int, int, int] | None) -> None:
        serving = self._version or self.fallback
        try:
            current = self.registry.current()
            if current is None or current.version == self._version:
                self._stamp = stamp
                self._degraded = None
                return
            model = self._load(self.registry.path_for(current))
        except Exception as exc:  # a broken candidate must never take the bot down
            self.last_error = f"{type(exc).__name__}: {exc}"
            self._degraded = f"{self.last_error}; still serving {serving}"
            logger.exception("could not load the promoted model; the old one keeps serving")
            self._stamp = stamp
            return
        with self._lock:
            self._model, self._version = model, current.version
            self._stamp = stamp
            self.last_error = None
            self._degraded = None
        logger.info("now serving model %s", current.version)
