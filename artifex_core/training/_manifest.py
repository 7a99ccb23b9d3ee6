"""A checkpoint's manifest, ``artifex-manifest.json``: what it records and how a checkpoint is checked against it.

The manifest holds the size and SHA-256 of every file of a checkpoint and the path, shape and dtype of every
array. :func:`manifest_text` makes it once orbax has committed the checkpoint; :func:`verify_files` checks the
files before a restore reads them, and :func:`compare` names the first difference of two signatures, so a
truncated or garbled checkpoint is a :class:`CheckpointError` naming it. No JAX here.

Example:
    >>> import json, tempfile
    >>> from pathlib import Path
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / "data").write_bytes(b"abc")
    >>> _ = (folder / MANIFEST).write_text(manifest_text(folder, 1, {"['w']": [[2], "float32"]}))
    >>> verify_files(folder, "checkpoint 1")["arrays"]
    {"['w']": [[2], 'float32']}
    >>> _ = (folder / "data").write_bytes(b"ab")
    >>> verify_files(folder, "checkpoint 1")
    Traceback (most recent call last):
    ...
    artifex_core.training._manifest.CheckpointError: checkpoint 1 is damaged: file data is truncated (2 of 3 bytes)
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

__all__ = ["MANIFEST", "CheckpointError", "compare", "digests", "manifest_text", "short_error", "verify_files"]

MANIFEST = "artifex-manifest.json"


class CheckpointError(RuntimeError):
    """A checkpoint that cannot be used: missing, damaged, or of another model's structure."""


def short_error(exc: BaseException) -> str:
    """The first line of an error, named by its type, without a library's multi-line dump."""
    lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
    text = f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__
    return text if len(text) <= 160 else text[:157] + "..."


def digests(folder: Path) -> dict[str, list[Any]]:
    """``{relative path: [size, sha256]}`` of every file under ``folder`` but the manifest."""
    out = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.name != MANIFEST:
            h = hashlib.sha256()
            with path.open("rb") as f:
                for block in iter(lambda: f.read(1 << 20), b""):
                    h.update(block)
            out[path.relative_to(folder).as_posix()] = [path.stat().st_size, h.hexdigest()]
    return out


def _describe(what: str, key: str, expected: list[Any], found: list[Any]) -> str:
    if what == "file":
        (want_size, _), (size, _) = expected, found
        if size < want_size:
            return f"file {key} is truncated ({size} of {want_size} bytes)"
        if size != want_size:
            return f"file {key} has {size} bytes, expected {want_size}"
        return f"file {key} fails its SHA-256 check"
    return f"array {key} is {expected[1]}{tuple(expected[0])} in the checkpoint but {found[1]}{tuple(found[0])} here"


def compare(expected: dict[str, list[Any]], found: dict[str, list[Any]], what: str) -> str | None:
    """The first difference between the checkpoint's signature (``expected``) and what is here, or None.

    ``what`` is ``"file"`` (signatures of :func:`digests`) or ``"array"`` (``[shape, dtype]`` by path).
    """
    for key in expected:
        if key not in found:
            return f"file {key} is missing" if what == "file" else f"array {key} of the checkpoint is not in this model"
        if expected[key] != found[key]:
            return _describe(what, key, expected[key], found[key])
    extra = sorted(set(found) - set(expected))
    if not extra:
        return None
    return f"unexpected file {extra[0]}" if what == "file" else f"array {extra[0]} of this model is not in the checkpoint"


def manifest_text(folder: Path, epoch: int, arrays: dict[str, list[Any]]) -> str:
    """The manifest of the committed checkpoint ``epoch`` in ``folder`` whose state has signature ``arrays``."""
    manifest = {"format": 1, "epoch": epoch, "files": digests(folder), "arrays": arrays}
    return json.dumps(manifest, indent=1) + "\n"


def verify_files(folder: Path, where: str) -> Any:
    """Check the files of the checkpoint in ``folder`` against its manifest; return the manifest.

    Args:
        folder: The checkpoint's folder.
        where: How errors name the checkpoint (``checkpoint 3 in runs/x/checkpoints``).

    Returns:
        The manifest (its ``arrays``: ``{path: [shape, dtype]}``), or None when there is none (artifex 0.1).

    Raises:
        CheckpointError: The manifest is unreadable, or a file is missing, truncated, changed or unexpected.
    """
    manifest_path = folder / MANIFEST
    if not manifest_path.is_file():
        return None
    try:
        manifest = json.loads(manifest_path.read_text())
        files, _ = manifest["files"], manifest["arrays"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise CheckpointError(f"{where} is damaged: its {MANIFEST} is unreadable ({short_error(exc)})") from None
    problem = compare(files, digests(folder), "file")
    if problem is not None:
        raise CheckpointError(f"{where} is damaged: {problem}")
    return manifest
