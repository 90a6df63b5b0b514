"""Atomic, verified checkpoints.

A checkpoint directory holds ``step_XXXXXXXX.pt`` files and ``latest.json``, a manifest listing the
good checkpoints (oldest first) with their step and SHA-256. Files are written to a temporary name,
flushed to disk and renamed (``os.replace`` is atomic), and only then entered in the manifest, so a
crash at any point leaves the previous manifest and its checkpoints intact.

Loading walks the manifest from the newest entry back: a file that is missing, truncated or
tampered with (hash mismatch, or not loadable with ``torch.load(weights_only=True)``) is reported
with a warning naming it and the next older one is used.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import warnings
from pathlib import Path
from typing import Any

import torch

MANIFEST = "latest.json"
_NAME = re.compile(r"^step_(\d{8,})\.pt$")


class CheckpointError(RuntimeError):
    """No usable checkpoint could be read."""


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    try:  # make the rename itself durable
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError:  # pragma: no cover - platforms without directory fsync
        pass


def _read_manifest(directory: Path) -> list[dict[str, Any]]:
    path = directory / MANIFEST
    if not path.exists():
        return []
    try:
        entries = json.loads(path.read_text())["checkpoints"]
        return [e for e in entries if _NAME.match(e["file"])]
    except (ValueError, KeyError, TypeError) as err:
        warnings.warn(
            f"checkpoint manifest {path} is unreadable ({err}); falling back to the step_*.pt "
            "files without hash verification",
            stacklevel=3,
        )
        files = sorted(p for p in directory.glob("step_*.pt") if _NAME.match(p.name))
        return [
            {"file": p.name, "step": int(_NAME.match(p.name)[1]), "sha256": None} for p in files
        ]


def save_checkpoint(directory: str | Path, step: int, state: dict[str, Any], keep: int = 3) -> Path:
    """Write ``state`` as the checkpoint of ``step`` and keep the newest ``keep`` checkpoints.

    ``state`` must hold only tensors, numbers, strings, None and containers of them, so that it
    loads with ``weights_only=True``.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    torch.save(state, buffer)
    data = buffer.getvalue()
    path = directory / f"step_{step:08d}.pt"
    _write_atomic(path, data)
    entries = [e for e in _read_manifest(directory) if e["step"] != step]
    entries.append({"file": path.name, "step": step, "sha256": hashlib.sha256(data).hexdigest()})
    entries.sort(key=lambda e: e["step"])
    kept, dropped = entries[-keep:], entries[:-keep]
    _write_atomic(directory / MANIFEST, json.dumps({"checkpoints": kept}, indent=1).encode())
    for entry in dropped:
        (directory / entry["file"]).unlink(missing_ok=True)
    return path


def _load_verified(path: Path, sha256: str | None) -> dict[str, Any]:
    data = path.read_bytes()
    if sha256 is not None and hashlib.sha256(data).hexdigest() != sha256:
        raise CheckpointError(f"{path} does not match the SHA-256 recorded in {MANIFEST}")
    try:
        return torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except Exception as err:  # truncated zip, pickled code, ... all mean "unusable"
        raise CheckpointError(f"{path} cannot be loaded safely: {err}") from err


def load_latest_checkpoint(directory: str | Path) -> tuple[dict[str, Any], int]:
    """Return ``(state, step)`` of the newest good checkpoint in ``directory``.

    Raises :class:`CheckpointError` when there is none.
    """
    directory = Path(directory)
    entries = _read_manifest(directory)
    if not entries:
        raise CheckpointError(
            f"no checkpoint in {directory}; train the run first (pyrodis train --out ...)"
        )
    problems = []
    for entry in reversed(entries):
        path = directory / entry["file"]
        try:
            if not path.exists():
                raise CheckpointError(f"{path} is listed in {MANIFEST} but missing")
            state = _load_verified(path, entry.get("sha256"))
        except CheckpointError as err:
            problems.append(str(err))
            warnings.warn(
                f"refusing checkpoint {path.name}: {err}; trying an older one", stacklevel=2
            )
            continue
        return state, int(entry["step"])
    raise CheckpointError(f"no usable checkpoint in {directory}: " + "; ".join(problems))
