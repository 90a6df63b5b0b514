"""The study's results table: one row per trial, read back from its run directory and record.

Columns: ``study, trial, setting, preset, objective``, every varied key (``objective.beta`` …),
``seed, eval_seed`` (the seed of its evaluation draws: ``metrics.json``'s, else the one its config
will use; ``docs/runs.rst``), ``status, failures, error, steps, wall_s``, the final ELBO terms (``final.<term>``, the last
row of ``log.csv``) and every metric value (``<metric>.<sub_score>``, read generically from
``metrics.json``). Written to ``DIR/results.csv`` and, when pandas and pyarrow are installed,
``DIR/results.parquet``.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Any

from pyrodis.metrics import METRICS
from pyrodis.runs.report.html import metric_rows
from pyrodis.runs.run_directory import RunDirectory
from pyrodis.runs.study.file import StudySpec, Trial
from pyrodis.runs.study.trial import RUNS_DIR, read_record

__all__ = ["metric_columns", "read_results", "trial_row", "write_results"]

RESULTS_CSV, RESULTS_PARQUET = "results.csv", "results.parquet"
FINAL_PREFIX = "final."
_NOT_TERMS = ("step", "lr")


def _cell(value: Any) -> Any:
    """Lists and tables as JSON text, so every column holds scalars."""
    return json.dumps(value) if isinstance(value, (list, dict, tuple)) else value


def _metrics(run_dir: Path) -> dict[str, float]:
    path = RunDirectory(run_dir).metrics_file
    if not path.exists():
        return {}
    return {row[0]: row[1] for row in metric_rows(json.loads(path.read_text())) if row[1] != ""}


def _eval_seed(run_dir: Path, trial: Trial) -> int:
    """The seed the run was evaluated with (``metrics.json``), else the one it will be."""
    recorded = (RunDirectory(run_dir).read_metrics() or {}).get("seed")
    if recorded is not None:
        return int(recorded)
    return trial.seed if trial.config.eval.seed is None else trial.config.eval.seed


def _final_terms(run_dir: Path) -> tuple[int | None, dict[str, float]]:
    rows = RunDirectory(run_dir).read_log()
    if not rows:
        return None, {}
    last = rows[-1]
    terms = {f"{FINAL_PREFIX}{k}": v for k, v in last.items() if k not in _NOT_TERMS}
    return int(last["step"]), terms


def trial_row(out: Path, spec: StudySpec, trial: Trial) -> dict[str, Any]:
    """The results row of ``trial`` (status ``pending`` when it never started)."""
    run_dir = Path(out) / RUNS_DIR / trial.trial_id
    record = read_record(out, trial.trial_id)
    logged_step, terms = _final_terms(run_dir)
    row: dict[str, Any] = {
        "study": spec.name,
        "trial": trial.trial_id,
        "setting": trial.setting,
        "preset": trial.preset,
        "objective": trial.config.objective.name,
    }
    row.update({key: _cell(trial.params.get(key)) for key in spec.varied_keys})
    row.update(
        seed=trial.seed,
        eval_seed=_eval_seed(run_dir, trial),
        status=record.get("status", "pending"),
        failures=record.get("failures", 0),
        error=record.get("error") or "",
        steps=record.get("steps", logged_step),
        wall_s=record.get("seconds"),
    )
    row.update(terms)
    if row["status"] == "done":
        row.update(_metrics(run_dir))
    return row


def metric_columns(rows: list[dict[str, Any]]) -> list[str]:
    """The metric columns of ``rows`` (``<metric>.<sub_score>`` for the metrics pyrodis knows)."""
    return [k for k in _columns(rows) if k.split(".")[0] in METRICS]


def _columns(rows: list[dict[str, Any]]) -> list[str]:
    """Every key of ``rows``: bookkeeping and varied keys, then ELBO terms, then metrics."""
    keys: list[str] = []
    for row in rows:
        keys += [k for k in row if k not in keys]

    def group(key: str) -> int:
        return 1 if key.startswith(FINAL_PREFIX) else 2 if key.split(".")[0] in METRICS else 0

    return sorted(keys, key=group)  # stable: first-seen order within a group


def write_results(out: str | Path, spec: StudySpec, trials: list[Trial]) -> list[dict[str, Any]]:
    """Write ``results.csv`` (and Parquet when possible) for ``trials``; return the rows."""
    out = Path(out)
    rows = [trial_row(out, spec, t) for t in trials]
    tmp = out / (RESULTS_CSV + ".tmp")
    with open(tmp, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=_columns(rows))
        writer.writeheader()
        writer.writerows(rows)
    tmp.replace(out / RESULTS_CSV)
    try:
        import pandas as pd

        pd.DataFrame(rows, columns=_columns(rows)).to_parquet(out / RESULTS_PARQUET)
    except ImportError:  # pandas or pyarrow missing: the CSV is the table
        pass
    return rows


def _parse(value: str) -> Any:
    if value == "":
        return None
    for kind in (int, float):
        try:
            return kind(value)
        except ValueError:
            pass
    return value


def read_results(out: str | Path) -> list[dict[str, Any]]:
    """The rows of ``DIR/results.csv`` with numbers parsed (empty cells are None)."""
    path = Path(out) / RESULTS_CSV
    if not path.exists():
        raise FileNotFoundError(f"{out} has no {RESULTS_CSV}; run `pyrodis study run` first")
    with open(path, newline="") as fh:
        return [{k: _parse(v) for k, v in row.items()} for row in csv.DictReader(fh)]


def finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
