"""Atomic, verified checkpoints.

A checkpoint directory holds ``step_XXXXXXXX.pt`` files and ``latest.json``, a manifest listing the
good checkpoints (oldest first) with their step and SHA-256. Files are written to a temporary name,
flushed to disk and renamed (:mod:`pyrodis.atomic`), and only then entered in the manifest, so a
crash at any point leaves the previous manifest and its checkpoints intact.

Loading walks the manifest from the newest entry back: a file that is missing, truncated or
tampered with (hash mismatch, not loadable with ``torch.load(weights_only=True)``, or holding
another step than the manifest says) is reported with a warning naming it and the next older one
is used. A missing, emptied or corrupt manifest, or one that lists no valid entry, falls back to
the ``step_*.pt`` files themselves (without hash verification), with a warning.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import re
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from pyrodis.atomic import remove_temporaries, write_bytes

MANIFEST = "latest.json"
#: not model state: logged terms (may hold NaN) and the run record (a config may say sigma = inf)
_LOGS = ("history", "interval", "run")
_NAME = re.compile(r"^step_(\d{8,})\.pt$")


class CheckpointError(RuntimeError):
    """No usable checkpoint could be read."""


def _files(directory: Path) -> list[dict[str, Any]]:
    files = sorted(p for p in directory.glob("step_*.pt") if _NAME.match(p.name))
    return [{"file": p.name, "step": int(_NAME.match(p.name)[1]), "sha256": None} for p in files]


def _valid_entry(entry: Any) -> bool:
    return (
        isinstance(entry, dict)
        and isinstance(entry.get("file"), str)
        and bool(_NAME.match(entry["file"]))
        and type(entry.get("step")) is int
        and isinstance(entry.get("sha256"), (str, type(None)))
    )


def _read_manifest(directory: Path) -> list[dict[str, Any]]:
    path = directory / MANIFEST
    try:
        entries = json.loads(path.read_text())["checkpoints"]
        valid = [e for e in entries if _valid_entry(e)]
        if valid:
            return valid
        problem = "lists no valid checkpoint" if entries else "lists no checkpoint"
    except FileNotFoundError:
        problem = "is missing"
    except (ValueError, KeyError, TypeError) as err:  # emptied, truncated or edited
        problem = f"is unreadable ({err})"
    files = _files(directory)
    if files:
        warnings.warn(
            f"checkpoint manifest {path} {problem}; falling back to the step_*.pt files without "
            "hash verification",
            stacklevel=3,
        )
    return files


def non_finite_entries(state: Any, prefix: str = "") -> list[str]:
    """Where ``state`` (nested dicts/lists of tensors and numbers) holds NaN or infinity."""
    if isinstance(state, dict):
        return [n for k, v in state.items() for n in non_finite_entries(v, f"{prefix}{k}.")]
    if isinstance(state, (list, tuple)):
        return [n for i, v in enumerate(state) for n in non_finite_entries(v, f"{prefix}{i}.")]
    if isinstance(state, torch.Tensor) and state.is_floating_point():
        return [] if bool(torch.isfinite(state).all()) else [prefix.rstrip(".")]
    if isinstance(state, float) and not math.isfinite(state):
        return [prefix.rstrip(".")]
    return []


def save_checkpoint(directory: str | Path, step: int, state: dict[str, Any], keep: int = 3) -> Path:
    """Write ``state`` as the checkpoint of ``step`` and keep the newest ``keep`` checkpoints.

    ``state`` must hold only tensors, numbers, strings, None and containers of them, so that it
    loads with ``weights_only=True``. A state with a non-finite tensor is refused
    (:class:`CheckpointError`): a checkpoint listed as good is always finite. Logged history rows
    (``history``, ``interval``) may hold NaN and the run record (``run``: config and history) may
    hold infinity (``data.correlation_sigma = inf``); they are not checked.
    """
    bad = non_finite_entries({k: v for k, v in state.items() if k not in _LOGS})
    if bad:
        raise CheckpointError(
            f"refusing to save step {step}: non-finite values in {', '.join(bad[:5])}"
        )
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    torch.save(state, buffer)
    data = buffer.getvalue()
    path = directory / f"step_{step:08d}.pt"
    entries = [e for e in _read_manifest(directory) if e["step"] != step]
    write_bytes(path, data)
    entries.append({"file": path.name, "step": step, "sha256": hashlib.sha256(data).hexdigest()})
    entries.sort(key=lambda e: e["step"])
    kept, dropped = entries[-keep:], entries[:-keep]
    write_bytes(directory / MANIFEST, json.dumps({"checkpoints": kept}, indent=1).encode())
    for entry in dropped:
        (directory / entry["file"]).unlink(missing_ok=True)
    return path


class CheckpointSaver:
    """The run's checkpoint callback (also its ``on_interrupt``); ``last`` is the newest step
    written by this process (None before the first).

    Each checkpoint holds the run's config record (so a damaged ``config.json`` can be
    recovered), is checked finite before it is written, and is written at most once per step (an
    interrupt right after a periodic checkpoint does not rewrite it)."""

    def __init__(self, directory: Path, keep: int, record: dict[str, Any], last: int | None):
        self.directory, self.keep, self.record = directory, keep, record
        self.last, self.written = last, False

    def __call__(self, trainer: Any, *_: Any) -> None:
        if trainer.step == self.last:  # already saved: never rewrite a good checkpoint
            return
        state = trainer.state_dict()
        bad = non_finite_entries({k: state[k] for k in ("params", "optim", "elbo")})
        if bad:
            raise FloatingPointError(
                f"non-finite values at step {trainer.step} (in {', '.join(bad[:5])})"
            )
        state["run"] = self.record
        save_checkpoint(self.directory, trainer.step, state, keep=self.keep)
        self.last, self.written = trainer.step, True


def remove_stale_temporaries(directory: str | Path) -> None:
    """Delete half-written temporaries left by a process killed while saving (call it only while
    holding the run's lock: then no live process is writing them)."""
    remove_temporaries(directory)


def _load_verified(path: Path, sha256: str | None) -> dict[str, Any]:
    data = path.read_bytes()
    if sha256 is not None and hashlib.sha256(data).hexdigest() != sha256:
        raise CheckpointError(f"{path} does not match the SHA-256 recorded in {MANIFEST}")
    try:
        return torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except Exception as err:  # truncated zip, pickled code, ... all mean "unusable"
        raise CheckpointError(f"{path} cannot be loaded safely: {err}") from err


def _check_step(path: Path, state: Any, step: int) -> None:
    held = state.get("step", step) if isinstance(state, dict) else step
    if held != step or int(_NAME.match(path.name)[1]) != step:
        raise CheckpointError(
            f"{path} holds step {held} but {MANIFEST} lists it as step {step}; the manifest or "
            "the file was edited"
        )


def foreign_run(saved: dict[str, Any] | None, record: dict[str, Any]) -> str | None:
    """Why a checkpoint whose run record is ``saved`` does not belong to the run whose
    ``config.json`` holds ``record`` (None when it does, or when it holds no record).

    A run carries a random run id from its creation; runs made before run ids are compared by
    config (all but ``train.steps``, which ``--resume --steps`` changes)."""
    if not isinstance(saved, dict):
        return None
    theirs, mine = saved.get("run_id"), record.get("run_id")
    if theirs and mine:
        return (
            None
            if theirs == mine
            else f"its run id {theirs} is not the run id {mine} in config.json"
        )
    a, b = dict(saved.get("config") or {}), dict(record.get("config") or {})
    for config in (a, b):
        config["train"] = {k: v for k, v in (config.get("train") or {}).items() if k != "steps"}
    differ = sorted(k for k in {*a, *b} if a.get(k) != b.get(k))
    return f"its config differs from config.json in {', '.join(differ)}" if differ else None


def load_latest_checkpoint(
    directory: str | Path, check: Callable[[dict[str, Any]], str | None] | None = None
) -> tuple[dict[str, Any], int]:
    """Return ``(state, step)`` of the newest good checkpoint in ``directory``.

    ``check(state)`` may say why a checkpoint is not this run's (:func:`foreign_run`): such a
    checkpoint is refused like a damaged one. Raises :class:`CheckpointError` when there is none.
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
            _check_step(path, state, int(entry["step"]))
            foreign = check(state) if check is not None else None
            if foreign:
                raise CheckpointError(
                    f"{path} belongs to another run ({foreign}): it was copied in from another "
                    "run directory; move it back there"
                )
        except CheckpointError as err:
            problems.append(str(err))
            warnings.warn(
                f"refusing checkpoint {path.name}: {err}; trying an older one", stacklevel=2
            )
            continue
        return state, int(entry["step"])
    raise CheckpointError(f"no usable checkpoint in {directory}: " + "; ".join(problems))
