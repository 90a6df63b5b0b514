"""Run a study on Ray: every trial a run directory, resumable, fault-isolated (``pyrodis study run``).

:func:`run_study` expands and validates every trial (:mod:`pyrodis.runs.study.file`), then runs
the trials that are not finished as Ray tasks (:func:`pyrodis.runs.study.trial.run_trial`):

- a finished trial (record ``done``, run at its configured steps, ``metrics.json`` present) is
  skipped without touching its run directory;
- an interrupted trial (its driver or worker died) resumes exactly from its newest checkpoint;
- a failed trial is recorded with its error and retried up to ``retries`` times over all
  invocations (a configuration error is not retried: it would fail again); it never stops the
  other trials;
- without ``address`` Ray starts on this machine with all its cores; each trial gets
  ``threads_per_trial`` CPU threads and Ray runs at most ``max_concurrent`` trials at once, so
  trials do not oversubscribe the cores. With ``address`` the study joins an existing cluster
  (``DIR`` must then be on a file system every node sees). A Ray session already initialised in
  this process is used as it is.

A started trial keeps the config it started with (its run directory's ``config.json``); only a
larger ``train.steps`` in the study file extends it. To change anything else, use a new ``DIR``.

Afterwards ``DIR/results.csv`` (and ``results.parquet`` with pandas + pyarrow) holds one row per
trial (:mod:`pyrodis.runs.study.results_table`).
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections import deque
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pyrodis.atomic import write_text
from pyrodis.openmp import set_passive_wait
from pyrodis.runs.run_directory import RunDirectory
from pyrodis.runs.study.file import StudyError, StudySpec, Trial, expand_trials, read_study
from pyrodis.runs.study.progress import StudyProgress
from pyrodis.runs.study.results_table import write_results
from pyrodis.runs.study.tracking import open_study_run, tracked_config, trial_tracking
from pyrodis.runs.study.trial import RUNS_DIR, one_line, read_record, run_trial, write_record
from pyrodis.training.interrupts import interrupting_signals

__all__ = ["SPEC_FILE", "run_study"]

SPEC_FILE = "spec.json"
#: the folder holding this pyrodis package: workers import the same code as the driver
_PACKAGE_ROOT = str(Path(__file__).resolve().parents[3])


def _import_ray() -> Any:
    try:
        import ray
    except ImportError as err:
        raise StudyError(
            "studies run on Ray, which is not installed: pip install 'pyrodis[study]'"
        ) from err
    return ray


@contextmanager
def _ray_session(address: str | None):
    ray = _import_ray()
    started = not ray.is_initialized()
    if started:
        kwargs = {"include_dashboard": False, "log_to_driver": False, "configure_logging": False}
        if address:
            ray.init(address=address, **kwargs)
        else:
            ray.init(num_cpus=os.cpu_count() or 1, **kwargs)
    try:
        yield ray
    finally:
        if started:
            ray.shutdown()


def _capacity(ray: Any, max_concurrent: int | None, threads: int | None) -> tuple[int, int]:
    """(concurrent trials, threads per trial) that fit the session's CPUs."""
    total = max(1, int(ray.cluster_resources().get("CPU", 1)))
    per_node = max(
        [int(n["Resources"].get("CPU", 0)) for n in ray.nodes() if n.get("Alive")] or [total]
    )
    if max_concurrent is not None and max_concurrent < 1:
        raise StudyError(f"max_concurrent must be >= 1, got {max_concurrent}")
    if threads is None:
        threads = max(1, total // max_concurrent) if max_concurrent else 1
    if not 1 <= threads <= per_node:
        raise StudyError(
            f"threads_per_trial must be in 1..{per_node} (CPUs of a node), got {threads}"
        )
    concurrent = max_concurrent or max(1, total // threads)
    return concurrent, min(threads, per_node)


def _is_finished(out: Path, trial: Trial, record: dict[str, Any]) -> bool:
    return (
        record.get("status") == "done"
        and record.get("steps") == trial.config.train.steps
        and RunDirectory(out / RUNS_DIR / trial.trial_id).metrics_file.exists()
    )


def _may_run(record: dict[str, Any], retries: int) -> bool:
    if record.get("status") != "failed":
        return True
    return bool(record.get("retryable", True)) and record.get("failures", 0) <= retries


def _task(ray: Any, threads: int) -> Any:
    """The trial as a Ray task: ``threads`` CPUs, no Ray-level retries (the study retries)."""
    env = {
        "PYTHONPATH": os.pathsep.join([_PACKAGE_ROOT, os.environ.get("PYTHONPATH", "")]).rstrip(
            os.pathsep
        ),
        "OMP_NUM_THREADS": str(threads),
        **set_passive_wait({}),
    }
    return ray.remote(run_trial).options(
        num_cpus=threads, max_retries=0, runtime_env={"env_vars": env}
    )


def _submit(task: Any, out: Path, trial: Trial, threads: int, tracked: tuple) -> Any:
    """Queue the trial; ``tracked``: the study and its MLflow run (None when untracked)."""
    write_record(out, trial.trial_id, status="queued", submitted=time.time())
    spec, study_run = tracked
    config = tracked_config(trial, study_run)
    tracking = trial_tracking(spec, trial, study_run) if study_run else None
    return task.remote(str(out), trial.trial_id, config, threads, tracking)


def _outcome(ray: Any, ref: Any) -> dict[str, Any]:
    try:
        return ray.get(ref)
    except ray.exceptions.RayError as err:  # the worker died (killed, out of memory, node lost)
        return {
            "status": "failed",
            "error": one_line(err),
            "retryable": True,
            "seconds": 0.0,
        }


def _finish(out: Path, trial: Trial, result: dict[str, Any], retries: int) -> tuple[str, dict]:
    """Record a finished attempt; return ("done" | "retry" | "failed", the record)."""
    old = read_record(out, trial.trial_id)
    seconds = old.get("seconds", 0.0) + result.get("seconds", 0.0)
    if result["status"] == "interrupted":  # stopped from outside with a checkpoint: not a failure
        return "retry", write_record(out, trial.trial_id, status="interrupted", seconds=seconds)
    if result["status"] == "done":
        rec = write_record(
            out, trial.trial_id, status="done", steps=result["steps"], seconds=seconds, error=None
        )
        return "done", rec
    failures = old.get("failures", 0) + 1
    rec = write_record(
        out,
        trial.trial_id,
        status="failed",
        error=result["error"],
        traceback=result.get("traceback"),
        retryable=result["retryable"],
        failures=failures,
        seconds=seconds,
    )
    return ("retry" if result["retryable"] and failures <= retries else "failed"), rec


def _execute(ray, out: Path, todo: list[Trial], progress: StudyProgress, limits: tuple, tracked):
    concurrent, threads, retries = limits
    queue, pending, task = deque(todo), {}, _task(ray, threads)
    try:
        while queue or pending:
            while queue and len(pending) < concurrent:
                trial = queue.popleft()
                pending[_submit(task, out, trial, threads, tracked)] = trial
            progress.running = len(pending)
            progress.update()
            ready, _ = ray.wait(list(pending), num_returns=1, timeout=5.0)
            for ref in ready:
                trial = pending.pop(ref)
                verdict, _ = _finish(out, trial, _outcome(ray, ref), retries)
                if verdict == "retry":
                    queue.append(trial)
                    continue
                progress.finished_here += 1
                progress.done += verdict == "done"
                progress.failed += verdict == "failed"
    except KeyboardInterrupt:
        _stop(ray, out, pending)
        raise
    except BaseException:
        for ref in pending:
            ray.cancel(ref)
        raise
    progress.running = 0
    progress.update(final=True)


def _stop(ray: Any, out: Path, pending: dict[Any, Trial], grace: float = 300.0) -> None:
    """Ctrl-C: cancel the trials, which Ray interrupts like a Ctrl-C (each finishes its step,
    saves a checkpoint and returns), and wait for them before Ray shuts down, so the next
    ``study run`` resumes them. A second Ctrl-C stops waiting."""
    if not pending:
        return
    print("\nstopping: each running trial saves a checkpoint", file=sys.stderr)
    for ref in pending:
        ray.cancel(ref)
    try:
        ready, _ = ray.wait(list(pending), num_returns=len(pending), timeout=grace)
    except KeyboardInterrupt:
        return
    for ref in ready:
        try:
            result = ray.get(ref)
        except ray.exceptions.RayError:  # cancelled before it started (or while evaluating)
            result = {"status": "interrupted"}
        if result["status"] == "interrupted":
            write_record(out, pending[ref].trial_id, status="interrupted")
        else:
            _finish(out, pending[ref], result, retries=0)


def _write_spec(out: Path, spec: StudySpec) -> None:
    out.mkdir(parents=True, exist_ok=True)
    write_text(out / SPEC_FILE, json.dumps(spec.to_dict(), indent=2))


def run_study(
    study: str | Path | dict[str, Any] | StudySpec,
    out: str | Path,
    *,
    address: str | None = None,
    max_concurrent: int | None = None,
    threads_per_trial: int | None = None,
    retries: int = 2,
    progress: bool = True,
) -> list[dict[str, Any]]:
    """Run (or continue) the study ``study`` into ``out``; return the rows of ``results.csv``.

    Args:
        study: a study file (TOML/JSON), its nested dict, or a :class:`StudySpec`.
        out: the study directory (``out/runs/ID`` per trial, ``out/trials/ID.json`` records).
        address: a Ray cluster to join (``ray://…`` or ``HOST:PORT``); default: local Ray.
        max_concurrent: trials at once (default: CPUs // threads_per_trial).
        threads_per_trial: CPU threads of each trial (default: 1, or CPUs // max_concurrent).
        retries: how often a failed trial is tried again (over all invocations).
        progress: print the done/running/failed/ETA line to stderr.
    """
    spec = read_study(study)
    trials = expand_trials(spec)  # every config valid before anything runs
    if retries < 0:
        raise StudyError(f"retries must be >= 0, got {retries}")
    out = Path(out)
    _write_spec(out, spec)
    records = {t.trial_id: read_record(out, t.trial_id) for t in trials}
    finished = {t.trial_id for t in trials if _is_finished(out, t, records[t.trial_id])}
    todo = [
        t for t in trials if t.trial_id not in finished and _may_run(records[t.trial_id], retries)
    ]
    failed = len(trials) - len(finished) - len(todo)
    status = StudyProgress(spec.name, len(trials), len(finished), failed, progress)
    if todo:
        tracked = (spec, open_study_run(out, spec))  # MLflow: the study's run, made once
        # after ray.init, which sets its own SIGTERM handler: Ctrl-C and kill reach _stop
        with _ray_session(address) as ray, interrupting_signals():
            concurrent, threads = _capacity(ray, max_concurrent, threads_per_trial)
            _execute(ray, out, todo, status, (concurrent, threads, retries), tracked)
    else:
        status.update(final=True)
    return write_results(out, spec, trials)
