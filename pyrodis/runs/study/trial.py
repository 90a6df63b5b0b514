"""One study trial, as it runs in a worker process, and the trial records on disk.

A trial is an ordinary run directory ``DIR/runs/ID`` trained with
:func:`~pyrodis.runs.train.train_run` and evaluated with
:func:`~pyrodis.runs.evaluate.evaluate_run`. Its record ``DIR/trials/ID.json`` says where it
stands: ``queued``, ``running`` (with the worker's host and pid, and ``active`` while that process
works in the run directory), ``done`` or ``failed`` (with the error), how many attempts failed and
the seconds its finished attempts took. Run directories are
never touched by anything but ``train_run`` and ``evaluate_run`` (``docs/runs.rst``, Studies).
"""

from __future__ import annotations

import json
import os
import socket
import time
import traceback
from pathlib import Path
from typing import Any

from pyrodis.openmp import set_passive_wait

__all__ = ["read_record", "run_trial", "write_record"]

RUNS_DIR, TRIALS_DIR = "runs", "trials"


def record_path(out: str | Path, trial_id: str) -> Path:
    return Path(out) / TRIALS_DIR / f"{trial_id}.json"


def read_record(out: str | Path, trial_id: str) -> dict[str, Any]:
    """The trial's record (an empty dict when it never started)."""
    path = record_path(out, trial_id)
    return json.loads(path.read_text()) if path.exists() else {}


def write_record(out: str | Path, trial_id: str, **changes: Any) -> dict[str, Any]:
    """Update the trial's record with ``changes``, atomically; return the new record."""
    path = record_path(out, trial_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {**read_record(out, trial_id), **changes}
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(record, indent=2, default=str))
    tmp.replace(path)
    return record


def limit_threads(threads: int) -> None:
    """Give this process ``threads`` CPU threads (OpenMP, MKL and torch's intra-op pool)."""
    import torch

    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = str(threads)
    set_passive_wait()
    torch.set_num_threads(threads)


def _train_and_evaluate(run_dir: Path, config: dict[str, Any], tracking: dict | None) -> int:
    from pyrodis.runs.config import Config
    from pyrodis.runs.evaluate import evaluate_run
    from pyrodis.runs.run_directory import RunDirectory
    from pyrodis.runs.tracking import TrackingOptions
    from pyrodis.runs.train import train_run

    cfg = Config.from_dict(config)
    options = TrackingOptions(**tracking) if tracking else None
    if RunDirectory(run_dir).config_file.exists():  # interrupted or failed before: continue exactly
        run = train_run(
            run_dir, resume=True, steps=cfg.train.steps, progress=False, tracking=options
        )
    else:
        run = train_run(run_dir, cfg, progress=False, tracking=options)
    evaluate_run(run_dir)
    return int(run.step)


#: failures that would repeat exactly: a bad config, a foreign directory, a diverged loss
_NOT_RETRIED = (FileExistsError, FloatingPointError)


def one_line(err: BaseException, limit: int = 300) -> str:
    text = f"{type(err).__name__}: {str(err).strip().splitlines()[0] if str(err).strip() else ''}"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def run_trial(
    out: str, trial_id: str, config: dict[str, Any], threads: int, tracking: dict | None = None
) -> dict[str, Any]:
    """Train and evaluate one trial in this process; never raises for the trial's own errors.
    ``tracking``: the fields of the trial's :class:`~pyrodis.runs.tracking.TrackingOptions`.

    Returns ``{"status": "done", "steps", "seconds"}`` or ``{"status": "failed", "error",
    "retryable", "seconds"}``; a configuration error, a diverged loss or a directory that is not
    a run is not retryable (it would fail again exactly).
    """
    from pyrodis.runs.config import ConfigError

    limit_threads(threads)
    start = time.perf_counter()
    try:
        _wait_for_earlier_attempt(out, trial_id)
        write_record(
            out, trial_id, status="running", host=socket.gethostname(), pid=os.getpid(), active=True
        )
        steps = _train_and_evaluate(Path(out) / RUNS_DIR / trial_id, config, tracking)
    except Exception as err:  # the trial fails alone; the study goes on
        return {
            "status": "failed",
            "error": one_line(err),
            "traceback": traceback.format_exc(limit=-6),
            "retryable": not isinstance(err, (ConfigError, *_NOT_RETRIED)),
            "seconds": time.perf_counter() - start,
        }
    finally:
        write_record(out, trial_id, active=False)
    return {"status": "done", "steps": steps, "seconds": time.perf_counter() - start}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _wait_for_earlier_attempt(out: str, trial_id: str, timeout: float = 120.0) -> None:
    """Wait while a process of an earlier attempt (e.g. of a driver that was killed, whose
    workers Ray is still ending) still works in this trial's run directory on this host."""
    record = read_record(out, trial_id)
    pid = record.get("pid")
    if not record.get("active") or record.get("host") != socket.gethostname() or pid == os.getpid():
        return
    deadline = time.monotonic() + timeout
    while pid is not None and _alive(pid):
        if time.monotonic() > deadline:
            raise RuntimeError(
                f"process {pid} of an earlier attempt still runs this trial; end it and re-run"
            )
        time.sleep(0.5)
