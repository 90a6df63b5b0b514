"""What the study report reads: the results table, the per-run values that need the trained
encoders (from the run directories, or saved in an earlier ``study.json`` when they are gone),
the evaluation protocol the table records, and the datasets it crosses (``docs/runs.rst``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pyrodis.runs.run_directory import RunDirectory
from pyrodis.runs.study.file import StudyError
from pyrodis.runs.study.trial import RUNS_DIR

__all__ = [
    "DATASET_COLUMN",
    "datasets",
    "encoder_values",
    "evaluation_protocol",
    "has_run_directories",
]

JSON_FILE = "study.json"
DATASET_COLUMN = "data.name"


def _done(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in rows if r.get("status") == "done"]


def has_run_directories(study_dir: Path, rows: list[dict[str, Any]]) -> bool:
    """Whether every finished trial still has its run directory (config and metrics)."""
    for row in _done(rows):
        run = RunDirectory(Path(study_dir) / RUNS_DIR / str(row["trial"]))
        if not (run.config_file.exists() and run.metrics_file.exists()):
            return False
    return bool(_done(rows)) or (Path(study_dir) / RUNS_DIR).is_dir()


def _saved(study_dir: Path) -> dict[str, Any]:
    path = Path(study_dir) / JSON_FILE
    if not path.exists():
        return {}
    try:
        return json.loads(path.read_text())
    except ValueError as err:
        raise StudyError(
            f"{path} is damaged ({err}); the run directories are gone, so the per-run values "
            "it held (UDR, the correlated pair's MI) cannot be rebuilt"
        ) from err


def encoder_values(study_dir: Path, rows: list[dict[str, Any]], varies_pair: bool) -> dict:
    """Per-run UDR scores and correlated-pair MI: computed from the trained encoders when every
    finished trial has its run directory, else the values an earlier report saved in
    ``study.json`` (``udr.model_scores``, ``correlated_pair_mi``); ``source`` says which."""
    if has_run_directories(study_dir, rows):
        from pyrodis.runs.study.encoder_analyses import correlated_pair_mi, udr_scores

        pair = correlated_pair_mi(study_dir, rows) if varies_pair else []
        return {"source": "runs", "udr": udr_scores(study_dir, rows), "pair": pair}
    saved = _saved(study_dir)
    if not saved:
        return {"source": "none", "udr": {}, "pair": []}
    scores = (saved.get("udr") or {}).get("model_scores") or {}
    return {"source": "saved", "udr": dict(scores), "pair": saved.get("correlated_pair_mi") or []}


def evaluation_protocol(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """How the finished runs were scored: ``per-run`` (each on draws of its own training seed),
    ``shared`` (all on one seed's draws), ``mixed`` or ``unrecorded`` (a table without the
    ``eval_seed`` column), with a sentence that says it."""
    done = _done(rows)
    pairs = [(r["seed"], r.get("eval_seed")) for r in done]
    if not pairs or any(e is None for _, e in pairs):
        return {
            "protocol": "unrecorded",
            "text": "results.csv does not record the evaluation seed (written before the study "
            "option eval_seed). pyrodis then evaluated each run with its own training seed, so "
            "the runs of one seed index share their evaluation draws: seeds are crossed with "
            "settings.",
        }
    if all(s == e for s, e in pairs):
        return {
            "protocol": "per-run",
            "text": "Each run was scored on the evaluation draws of its own training seed "
            "(eval_seed = per-run): the runs of one seed index share their evaluation draws, "
            "so seeds are crossed with settings.",
        }
    seeds = sorted({e for _, e in pairs})
    if len(seeds) == 1:
        return {
            "protocol": "shared",
            "eval_seed": seeds[0],
            "text": f"Every run was scored on the same evaluation draws (eval_seed = {seeds[0]}): "
            "differences between runs come from training alone.",
        }
    return {
        "protocol": "mixed",
        "text": f"The runs were scored with several evaluation seeds {seeds}, not all their "
        "training seed: differences between runs mix training and evaluation draws.",
    }


def datasets(rows: list[dict[str, Any]]) -> list[str]:
    """The datasets the finished runs cross (``data.name`` varied by the study), in table order;
    empty when the study trains on one dataset."""
    names = list(
        dict.fromkeys(str(r[DATASET_COLUMN]) for r in _done(rows) if r.get(DATASET_COLUMN))
    )
    return names if len(names) > 1 else []
