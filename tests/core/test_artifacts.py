"""Artifacts are written beside their target and renamed into place, never half-written."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.artifacts import meta_json, read_meta, staged_folder, version_stamp


def test_a_staged_folder_replaces_the_old_one_and_leaves_nothing_beside_it(
    tmp_path: Path,
) -> None:
    target = tmp_path / "model"
    target.mkdir()
    (target / "stale.txt").write_text("old", encoding="utf-8")

    with staged_folder(target) as staging:
        (staging / "meta.json").write_text(meta_json({"a": 1}), encoding="utf-8")

    assert sorted(p.name for p in target.iterdir()) == ["meta.json"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


def test_a_failed_write_keeps_the_old_folder_and_removes_the_staging_one(tmp_path: Path) -> None:
    target = tmp_path / "model"
    target.mkdir()
    (target / "weights.bin").write_text("old", encoding="utf-8")

    with pytest.raises(RuntimeError, match="export failed"), staged_folder(target) as staging:
        (staging / "weights.bin").write_text("half", encoding="utf-8")
        raise RuntimeError("export failed")

    assert (target / "weights.bin").read_text(encoding="utf-8") == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


def test_metadata_reads_back_without_its_derived_version(tmp_path: Path) -> None:
    path = tmp_path / "meta.json"
    path.write_text(meta_json({"labels": ["é"], "model_version": "x", "format_version": 1}))

    assert read_meta(path) == ({"labels": ["é"], "format_version": 1}, 1)
    assert path.read_text(encoding="utf-8").endswith("}\n") and "é" in path.read_text()
    assert version_stamp("2024-06-01T12:30:00+00:00", "ab12cd34ef") == "20240601T123000-ab12cd34"
