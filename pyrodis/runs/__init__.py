"""The application layer (``docs/runs.rst``), in three rooms, lowest first:

- this package: what to train and a run on disk: :mod:`~pyrodis.runs.config` (with the
  precedence rules in :mod:`~pyrodis.runs.resolve`), :mod:`~pyrodis.runs.presets`,
  :mod:`~pyrodis.runs.objectives`, :mod:`~pyrodis.runs.build`; the run directory
  (:mod:`~pyrodis.runs.run_directory`, with the file formats :mod:`~pyrodis.runs.checkpoint` and
  :mod:`~pyrodis.runs.run_log`), :mod:`~pyrodis.runs.trained_run` (:func:`load_run`); then
  :mod:`~pyrodis.runs.train` (with :mod:`~pyrodis.runs.divergence`) and
  :mod:`~pyrodis.runs.evaluate`;
- :mod:`pyrodis.runs.report`: the run report;
- :mod:`pyrodis.runs.study`: studies of many runs on Ray.

The names below are imported on first use, so that ``pyrodis train`` does not load the metrics
and report stack (scikit-learn, SciPy, matplotlib) it never calls.
"""

from __future__ import annotations

from pyrodis.lazy_exports import lazy_exports

_HOMES = {
    "BUDGETS": "presets",
    "OBJECTIVES": "objectives",
    "CheckpointError": "checkpoint",
    "Config": "config",
    "ConfigError": "config",
    "Run": "trained_run",
    "RunDirectory": "run_directory",
    "StudyError": "study.file",
    "read_study": "study.file",
    "run_study": "study.ray_runner",
    "write_study_report": "study.report",
    "describe_presets": "presets",
    "evaluate_run": "evaluate",
    "load_latest_checkpoint": "checkpoint",
    "load_run": "trained_run",
    "preset_config": "presets",
    "resolve_config": "resolve",
    "save_checkpoint": "checkpoint",
    "train_run": "train",
    "write_report": "report.run_report",
}

__all__ = sorted(_HOMES)


__getattr__, __dir__ = lazy_exports(__name__, _HOMES, submodules=True)
