"""The model registry: versions, promotion, rollback and live model swapping."""

from __future__ import annotations

import json
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from nlu.artifact import ArtifactMeta, DecisionRule
from nlu.registry import (
    BrokenModelError,
    InvalidVersionError,
    LiveModel,
    Registry,
    RegistryError,
    RollbackError,
    UnknownVersionError,
    check_version_name,
)


def write_artifact(folder: Path, created: str, data_hash: str = "ab" * 32) -> str:
    """Write a minimal but genuine `shopintent.json` and return its model version."""
    folder.mkdir(parents=True, exist_ok=True)
    meta = ArtifactMeta(
        base_model="test",
        data_hash=data_hash,
        labels=["greet", "goodbye"],
        decision=DecisionRule(
            temperature=1.0,
            oos_method="softmax",
            threshold=0.5,
            oos_label=None,
            threshold_source="in-scope-quantile",
        ),
        max_length=32,
        entities={},
        validation={},
        train_config={},
        created=created,
    )
    meta.save(folder)
    return meta.model_version


def read_artifact(folder: Path) -> None:
    """A check for `Registry` that only reads the artifact: these test models have no weights."""
    ArtifactMeta.load(folder)


@pytest.fixture
def registry(tmp_path: Path) -> Registry:
    return Registry(tmp_path / "models", check=read_artifact)


def register_new(registry: Registry, created: str) -> str:
    staging = registry.staging_dir()
    write_artifact(staging, created)
    return registry.register(staging, source="retrain").version


@pytest.fixture
def versions(registry: Registry) -> tuple[str, str]:
    """Two registered (not promoted) versions, created at 01:00 and at 02:00."""
    return (
        register_new(registry, "2026-11-28T01:00:00+00:00"),
        register_new(registry, "2026-11-28T02:00:00+00:00"),
    )


def failing_on(version: str) -> Callable[[Path], str]:
    """A loader that serves each folder's name but fails on `version` as damaged weights do."""

    def loader(folder: Path) -> str:
        if folder.name == version:
            raise OSError("weights are damaged")
        return folder.name

    return loader


def test_empty_registry_has_no_current_model(registry: Registry) -> None:
    assert registry.current() is None
    assert registry.current_path() is None
    assert registry.versions() == []
    assert registry.stamp() is None


def test_registering_a_staged_folder_names_it_after_the_artifacts_model_version(
    registry: Registry,
) -> None:
    version = register_new(registry, "2026-11-28T02:00:00+00:00")

    assert version == "20261128T020000-abababab"
    entry = registry.get(version)
    assert entry.status == "candidate"
    assert (registry.root / entry.path / "shopintent.json").is_file()
    assert not list((registry.root / "versions").glob(".staging-*"))


def test_registering_an_outside_folder_copies_it_and_leaves_the_original(
    registry: Registry, tmp_path: Path
) -> None:
    outside = tmp_path / "default"
    version = write_artifact(outside, "2026-11-28T01:00:00+00:00")

    entry = registry.register(outside, source="register")

    assert entry.version == version
    assert (outside / "shopintent.json").is_file()
    assert (registry.root / entry.path).resolve() != outside.resolve()
    assert "copied from" in entry.note


def test_registering_a_folder_without_an_artifact_is_refused(
    registry: Registry, tmp_path: Path
) -> None:
    with pytest.raises(RegistryError, match=r"expected a model folder with shopintent\.json"):
        registry.register(tmp_path, source="register")


def test_promote_moves_the_pointer_and_rollback_returns_to_the_previous_version(
    registry: Registry,
    versions: tuple[str, str],
) -> None:
    first, second = versions

    registry.promote(first)
    registry.promote(second)
    assert registry.current() is not None
    assert registry.current().version == second  # type: ignore[union-attr]

    back = registry.rollback()
    assert back.version == first
    assert registry.current_path() == registry.root / "versions" / first


def test_promoting_the_current_version_again_does_not_grow_the_history(
    registry: Registry,
) -> None:
    version = register_new(registry, "2026-11-28T01:00:00+00:00")
    registry.promote(version)
    registry.promote(version)

    assert registry.load().history == [version]


@pytest.mark.parametrize(
    ("promotions", "match"),
    [(0, "holds nothing"), (1, "holds \\['20261128T010000")],
)
def test_rollback_without_an_earlier_version_says_how_to_fix_it(
    registry: Registry, promotions: int, match: str
) -> None:
    version = register_new(registry, "2026-11-28T01:00:00+00:00")
    for _ in range(promotions):
        registry.promote(version)

    with pytest.raises(RollbackError, match=match):
        registry.rollback()


def test_unknown_version_lists_the_known_ones(registry: Registry) -> None:
    version = register_new(registry, "2026-11-28T01:00:00+00:00")

    with pytest.raises(UnknownVersionError, match=f"registered versions \\({version}\\)"):
        registry.promote("v9")


def test_a_damaged_registry_file_is_reported_not_silently_reset(registry: Registry) -> None:
    registry.root.mkdir(parents=True)
    registry.file.write_text("{not json", encoding="utf-8")

    with pytest.raises(RegistryError, match="does not parse"):
        registry.versions()


def test_registry_file_is_valid_json_after_every_write(registry: Registry) -> None:
    version = register_new(registry, "2026-11-28T01:00:00+00:00")
    registry.annotate(version, status="rejected", note="worse", metrics={"test_macro_f1": 0.5})

    data = json.loads(registry.file.read_text(encoding="utf-8"))
    assert data["versions"][version]["status"] == "rejected"
    assert data["versions"][version]["metrics"] == {"test_macro_f1": 0.5}


def test_concurrent_registrations_are_all_kept(registry: Registry) -> None:
    created = [f"2026-11-28T01:00:{s:02d}+00:00" for s in range(8)]
    threads = [threading.Thread(target=register_new, args=(registry, c)) for c in created]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert len(registry.versions()) == len(created)


def load_version(folder: Path) -> str:
    """A loader that reads the real artifact file, standing in for IntentClassifier.load."""
    return ArtifactMeta.load(folder).model_version


def test_live_model_swaps_to_a_promoted_version_without_reloading_by_hand(
    registry: Registry,
    versions: tuple[str, str],
) -> None:
    first, second = versions
    registry.promote(first)
    live = LiveModel(registry, load_version, check_interval=0.0)
    assert live.get() == first

    registry.promote(second)
    live.maybe_reload(wait=True)

    assert live.get() == second
    assert live.version == second


def test_live_model_keeps_serving_while_the_new_model_loads(
    registry: Registry, versions: tuple[str, str]
) -> None:
    first, second = versions
    registry.promote(first)
    release = threading.Event()

    def slow_loader(folder: Path) -> str:
        if folder.name == second:
            release.wait(5)
        return folder.name

    live = LiveModel(registry, slow_loader, check_interval=0.0)
    live.load_now()
    registry.promote(second)

    answers = [live.get() for _ in range(20)]
    release.set()
    deadline = time.monotonic() + 5
    while live.version != second and time.monotonic() < deadline:
        live.get()
        time.sleep(0.01)

    assert set(answers) == {first}
    assert live.get() == second


def test_live_model_keeps_the_old_model_when_the_new_one_fails_to_load(
    registry: Registry,
    versions: tuple[str, str],
) -> None:
    first, second = versions
    registry.promote(first)

    live = LiveModel(registry, failing_on(second), check_interval=0.0)
    live.load_now()
    registry.promote(second)
    live.maybe_reload(wait=True)

    assert live.get() == first
    assert live.last_error is not None
    assert "weights are damaged" in live.last_error


def test_live_model_serves_the_fallback_folder_until_something_is_promoted(
    registry: Registry, tmp_path: Path
) -> None:
    fallback = tmp_path / "default"
    fallback_version = write_artifact(fallback, "2026-11-28T00:00:00+00:00")
    live = LiveModel(registry, load_version, fallback=fallback, check_interval=0.0)

    assert live.get() == fallback_version
    assert live.version is None


def test_live_model_without_any_model_says_how_to_get_one(registry: Registry) -> None:
    live = LiveModel(registry, load_version)

    with pytest.raises(RegistryError, match="shopintent train"):
        live.load_now()


def test_live_model_without_use_registry_serves_the_fallback_even_after_a_promotion(
    registry: Registry, tmp_path: Path
) -> None:
    fallback = tmp_path / "pinned"
    pinned = write_artifact(fallback, "2026-11-28T00:00:00+00:00")
    registry.promote(register_new(registry, "2026-11-28T02:00:00+00:00"))
    live = LiveModel(
        registry, load_version, fallback=fallback, check_interval=0.0, use_registry=False
    )

    live.maybe_reload(wait=True)

    assert live.get() == pinned


def test_models_commands_list_promote_and_roll_back(
    registry: Registry,
    versions: tuple[str, str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from shopintent.cli import main

    monkeypatch.setattr("nlu.registry.smoke_test", read_artifact)  # the CLI's own Registry
    first, second = versions
    where = ["--registry", str(registry.root)]

    assert main(["models", "promote", first, *where]) == 0
    assert main(["models", "promote", second, *where]) == 0
    assert main(["models", "rollback", *where]) == 0
    assert main(["models", "list", *where]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert main(["models", "show", "nope", *where]) == 2

    assert listed[-2].startswith(f"*  {first}")
    assert listed[-1].startswith(f"   {second}")
    assert "registered versions" in capsys.readouterr().err


# -- fail-safe: smoke tests, version names, paths, damaged files, degraded serving ------


def stage_copy(registry: Registry, model: Path, created: str, *, damage: bool = False) -> str:
    """Copy a real model into the registry's staging area as a new version; register it."""
    staging = registry.staging_dir()
    shutil.copytree(model, staging, dirs_exist_ok=True)
    meta = json.loads((staging / "shopintent.json").read_text(encoding="utf-8"))
    meta["created"] = created
    meta.pop("model_version", None)
    (staging / "shopintent.json").write_text(json.dumps(meta), encoding="utf-8")
    if damage:  # a copy cut short: the weights file ends half-way
        weights = staging / "model.safetensors"
        weights.write_bytes(weights.read_bytes()[:4096])
    return registry.register(staging, source="register").version


def test_promote_loads_the_model_first_and_refuses_one_whose_weights_are_damaged(
    tiny_model: Path, tmp_path: Path
) -> None:
    registry = Registry(tmp_path / "models")  # the real smoke test
    good = stage_copy(registry, tiny_model, "2026-11-28T01:00:00+00:00")
    broken = stage_copy(registry, tiny_model, "2026-11-28T02:00:00+00:00", damage=True)
    registry.promote(good)

    with pytest.raises(BrokenModelError, match=r"to load and parse .*register an intact copy"):
        registry.promote(broken)

    assert registry.load().current == good
    assert registry.load().history == [good]
    assert registry.get(broken).status == "candidate"


def test_promote_refuses_a_folder_that_is_not_a_loadable_model(registry: Registry) -> None:
    version = register_new(registry, "2026-11-28T01:00:00+00:00")
    real = Registry(registry.root)  # these test artifacts have no weights at all

    with pytest.raises(BrokenModelError, match="cannot load the transformer weights"):
        real.promote(version)
    assert registry.current() is None


def test_rollback_refuses_to_return_to_a_version_that_no_longer_loads(tmp_path: Path) -> None:
    damaged: set[str] = set()

    def check(folder: Path) -> None:
        if folder.name in damaged:
            raise BrokenModelError(f"{folder.name} is damaged")

    registry = Registry(tmp_path / "models", check=check)
    first = register_new(registry, "2026-11-28T01:00:00+00:00")
    second = register_new(registry, "2026-11-28T02:00:00+00:00")
    registry.promote(first)
    registry.promote(second)
    damaged.add(first)

    with pytest.raises(BrokenModelError, match="is damaged"):
        registry.rollback()
    assert registry.load().current == second
    assert registry.load().history == [first, second]


@pytest.mark.parametrize("name", ["20261128T020000-3f2a9c1b", "v1", "a.b_c-d", "A" * 100, "0"])
def test_safe_version_names_are_accepted(name: str) -> None:
    assert check_version_name(name) == name


@pytest.mark.parametrize(
    "name",
    ["", "../x", "a/b", "a\\b", ".hidden", "-x", "a..b", "A" * 101, "v1\n", "é1", "a b", "/abs"],
)
def test_unsafe_version_names_are_refused(name: str) -> None:
    with pytest.raises(InvalidVersionError, match="expected a version name"):
        check_version_name(name)


@pytest.mark.parametrize("created", ["../../evil", "x/../../../y", "..", ".hidden", "a" * 120])
def test_a_version_name_from_the_artifacts_created_field_cannot_write_outside(
    registry: Registry, tmp_path: Path, created: str
) -> None:
    staging = registry.staging_dir()
    write_artifact(staging, created)

    with pytest.raises(InvalidVersionError, match="created"):
        registry.register(staging, source="retrain")

    assert registry.load().versions == {}
    inside = {p.name for p in (registry.root / "versions").iterdir()}
    assert inside == {staging.name}
    assert {p.name for p in tmp_path.iterdir()} == {"models"}


def write_registry(registry: Registry, data: object) -> None:
    registry.root.mkdir(parents=True, exist_ok=True)
    registry.file.write_text(json.dumps(data), encoding="utf-8")


def test_a_recorded_path_outside_the_registry_is_refused(
    registry: Registry, tmp_path: Path
) -> None:
    write_artifact(tmp_path / "outside", "2026-11-28T01:00:00+00:00")
    entry = {"version": "v1", "path": "../outside", "created_at": "", "source": "register"}
    write_registry(registry, {"current": "v1", "history": ["v1"], "versions": {"v1": entry}})

    with pytest.raises(InvalidVersionError, match="inside"):
        registry.current_path()
    with pytest.raises(InvalidVersionError, match="inside"):
        registry.promote("v1")


@pytest.mark.parametrize(
    "content",
    [
        '{"current": "v1", "history": ["v1"], "versions": {"v1": {"vers',  # cut short
        "",
        "[]",
        '{"versions": {"v1": 5}}',
        '{"versions": {}, "history": 5}',
        '{"versions": {"v1": {"version": "v1"}}}',
    ],
    ids=["truncated", "empty", "list", "entry-not-object", "history-not-list", "entry-missing"],
)
def test_a_damaged_registry_file_gives_a_registry_error_that_says_how_to_fix_it(
    registry: Registry, content: str
) -> None:
    registry.root.mkdir(parents=True)
    registry.file.write_text(content, encoding="utf-8")

    with pytest.raises(RegistryError, match="restore it from a backup"):
        registry.current()


def test_live_model_at_start_falls_back_to_the_last_good_version_and_says_why(
    registry: Registry,
    versions: tuple[str, str],
) -> None:
    first, second = versions
    registry.promote(first)
    registry.promote(second)

    live = LiveModel(registry, failing_on(second), check_interval=0.0)

    assert live.load_now() == first
    assert live.version == first
    assert live.degraded_reason is not None
    assert f"{second} failed to load (OSError: weights are damaged)" in live.degraded_reason
    assert f"serving {first} instead" in live.degraded_reason


def test_live_model_at_start_serves_the_fallback_when_registry_json_is_truncated(
    registry: Registry, tmp_path: Path
) -> None:
    registry.promote(register_new(registry, "2026-11-28T01:00:00+00:00"))
    registry.file.write_text(registry.file.read_text()[:40], encoding="utf-8")
    fallback = tmp_path / "default"
    fallback_version = write_artifact(fallback, "2026-11-28T00:00:00+00:00")

    live = LiveModel(registry, load_version, fallback=fallback, check_interval=0.0)

    assert live.load_now() == fallback_version
    assert live.degraded_reason is not None
    assert "does not parse" in live.degraded_reason


def test_live_model_that_cannot_load_anything_raises_the_current_versions_error(
    registry: Registry,
) -> None:
    registry.promote(register_new(registry, "2026-11-28T01:00:00+00:00"))

    def loader(folder: Path) -> str:
        raise OSError(f"cannot read {folder.name}")

    with pytest.raises(OSError, match="cannot read 20261128T010000"):
        LiveModel(registry, loader).load_now()


def test_live_model_is_degraded_while_a_promoted_model_fails_and_recovers_with_the_next(
    registry: Registry,
    versions: tuple[str, str],
) -> None:
    first, second = versions
    third = register_new(registry, "2026-11-28T03:00:00+00:00")
    registry.promote(first)

    def probe(model: str) -> None:
        if model == second:
            raise ValueError("parse failed")

    live = LiveModel(registry, lambda folder: folder.name, check_interval=0.0, probe=probe)
    live.load_now()
    assert live.degraded_reason is None

    registry.promote(second)
    live.maybe_reload(wait=True)
    assert live.get() == first
    assert live.degraded_reason == f"ValueError: parse failed; still serving {first}"

    registry.promote(third)
    live.maybe_reload(wait=True)
    assert live.get() == third
    assert live.degraded_reason is None
