"""Names a person gave to latents ("pose", "smile"), kept in the run directory in their own file.

``RUN/latent_names.json`` holds ``{"format": 1, "names": {"3": "pose", ...}}`` (latent index →
name). ``pyrodis explore`` writes it; the report reads it (``docs/explore.rst``). The file is
written atomically (a temporary file in the same directory, flushed and fsynced, then renamed
over the old one), so a reader sees either the old names or the new ones, never half a file; it
is the only file of the run the explorer ever writes.
"""

from __future__ import annotations

import json
import os
import threading
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path

__all__ = ["NAMES_FILE", "MAX_NAME_LENGTH", "check_latent_name", "read_latent_names"]
__all__ += ["label_latents", "write_latent_names"]

NAMES_FILE = "latent_names.json"
MAX_NAME_LENGTH = 40


def check_latent_name(name: object) -> str:
    """``name`` stripped, or a ``ValueError`` saying what a name may be (a string of at most
    ``MAX_NAME_LENGTH`` printable characters; an empty name removes the latent's name)."""
    if not isinstance(name, str):
        raise ValueError(f"a latent name must be a string, got {type(name).__name__}")
    name = name.strip()
    if len(name) > MAX_NAME_LENGTH:
        raise ValueError(f"a latent name has at most {MAX_NAME_LENGTH} characters, got {len(name)}")
    if not name.isprintable():
        raise ValueError("a latent name may not hold control characters (newlines, tabs, ...)")
    return name


def read_latent_names(run_dir: str | Path) -> dict[int, str]:
    """The names of the run's latents, ``{index: name}`` (empty when none was given).

    A damaged file is ignored with a warning naming it (the explorer rewrites it whole on the
    next name given)."""
    path = Path(run_dir) / NAMES_FILE
    if not path.exists():
        return {}
    try:
        raw = json.loads(path.read_bytes().decode("utf-8"))
        names = {int(k): check_latent_name(v) for k, v in raw["names"].items()}
    except (ValueError, KeyError, TypeError, AttributeError) as err:
        warnings.warn(f"{path} is damaged ({err}); ignoring the latent names", stacklevel=2)
        return {}
    return {k: v for k, v in sorted(names.items()) if k >= 0 and v}


def write_latent_names(run_dir: str | Path, names: Mapping[int, str]) -> Path:
    """Replace the run's latent names with ``names`` (``{index: name}``; empty names dropped),
    atomically; return the file's path. Only ``RUN/latent_names.json`` is written."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise FileNotFoundError(f"{run_dir} is not a directory: latent names live in a run")
    clean = {}
    for key, value in names.items():
        if int(key) < 0:
            raise ValueError(f"latent indices are >= 0, got {key}")
        if check_latent_name(value):
            clean[str(int(key))] = check_latent_name(value)
    path = run_dir / NAMES_FILE
    tmp = run_dir / f".{NAMES_FILE}.{os.getpid()}.{threading.get_ident()}.tmp"
    data = json.dumps({"format": 1, "names": clean}, indent=2, ensure_ascii=False) + "\n"
    try:
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def label_latents(default_names: Sequence[str], run_dir: str | Path | None) -> list[str]:
    """``default_names`` (e.g. ``aggregate.latent_names``: ``z[0]``, ``z[1]``, ...) with the name
    a person gave each latent of the run appended, ``"z[3] pose"``; unchanged without names."""
    given = read_latent_names(run_dir) if run_dir is not None else {}
    return [f"{n} {given[j]}" if j in given else str(n) for j, n in enumerate(default_names)]
