"""What every trained artifact shares: its version stamp, its JSON metadata file, its atomic write.

The intent model (`nlu.artifact`, `shopintent.json`) and the recommender
(`recs.artifact`, `recs.json`) are folders that describe themselves with a JSON file;
both are written beside their target and renamed into place (`staged_folder`), so a
crash never leaves a half-written model where a server would load it. Both are
opened with the same checks (`open_meta`: a folder, its files, a format it can read);
each package keeps its own metadata class, file names and error messages.

>>> version_stamp("2024-06-01T12:30:00+00:00", "ab12cd34ef")
'20240601T123000-ab12cd34'
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any


def project_version() -> str:
    """Return the installed shopintent version (0.0.0 from an uninstalled tree)."""
    try:
        return version("shopintent")
    except PackageNotFoundError:
        return "0.0.0"


def version_stamp(created: str, data_hash: str) -> str:
    """A stable id of a model: its creation time (ISO, without zone) plus its data hash."""
    stamp = created.replace("-", "").replace(":", "").split("+")[0]
    return f"{stamp}-{data_hash[:8]}"


def meta_json(payload: dict[str, Any]) -> str:
    """The text of a metadata file: indented JSON, non-ASCII kept, a final newline."""
    return json.dumps(payload, indent=2, ensure_ascii=False) + "\n"


def read_meta(path: Path) -> tuple[dict[str, Any], int]:
    """Read a metadata file written with `meta_json`.

    Returns:
        Its fields without the derived `model_version`, and its `format_version`
        (0 when it has none).

    Raises:
        json.JSONDecodeError: The file is not JSON.
        AttributeError: The JSON is not an object.
        ValueError, TypeError: Its `format_version` is not a whole number.
    """
    raw = json.loads(path.read_text(encoding="utf-8"))
    raw.pop("model_version", None)
    return raw, int(raw.get("format_version", 0))


def open_meta(
    directory: str | Path,
    files: Sequence[str],
    supported: int,
    *,
    missing: type[Exception],
    too_new: type[Exception],
    no_folder_message: str,
    not_artifact_message: str,
    too_new_message: str,
) -> dict[str, Any]:
    """Check that `directory` is an artifact folder and read its metadata file.

    Each package passes its own exception classes and messages; the messages are
    `str.format` templates over `{directory}`, `{expected}` (`files` joined with
    "and"), `{missing}` (the absent ones, joined with "or"), `{path}` (the metadata
    file), `{found}` (its format version) and `{supported}`.

    Args:
        directory: The artifact folder.
        files: The files it must hold, the metadata file first.
        supported: The newest `format_version` this version reads.
        missing: Raised when the folder or one of its files is missing.
        too_new: Raised when the metadata comes from a newer format.
        no_folder_message: The message when `directory` is not a folder.
        not_artifact_message: The message when one of `files` is missing.
        too_new_message: The message when `format_version` is above `supported`.

    Returns:
        The metadata's fields, as `read_meta` returns them.

    Raises:
        missing: The folder or one of its files is missing.
        too_new: The metadata's `format_version` is newer than `supported`.
        json.JSONDecodeError, AttributeError, ValueError, TypeError: As `read_meta`.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise missing(no_folder_message.format(directory=directory))
    absent = [name for name in files if not (directory / name).is_file()]
    if absent:
        raise missing(
            not_artifact_message.format(
                directory=directory, expected=" and ".join(files), missing=" or ".join(absent)
            )
        )
    path = directory / files[0]
    raw, fmt = read_meta(path)
    if fmt > supported:
        raise too_new(too_new_message.format(path=path, found=fmt, supported=supported))
    return raw


@contextmanager
def staged_folder(target: Path) -> Iterator[Path]:
    """Write a folder beside `target` and, when the block ends, rename it into place.

    An existing `target` is moved aside first and removed after the swap; when the
    block raises, the half-written folder is removed and `target` is left as it was.

    Yields:
        The empty staging folder to write the artifact's files into.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        yield staging
        if target.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{target.name}-old-", dir=target.parent))
            os.replace(target, old / target.name)
            os.replace(staging, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
