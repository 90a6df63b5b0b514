"""Studies: many runs crossed from one study file, run on Ray, tabulated and analysed
(``pyrodis study run`` / ``pyrodis study report``; ``docs/runs.rst``, Studies).

Modules, lowest first: :mod:`~pyrodis.runs.study.file` (the study file and its trials),
:mod:`~pyrodis.runs.study.trial` (one trial: train and evaluate a run directory),
:mod:`~pyrodis.runs.study.results_table` (``results.csv``), :mod:`~pyrodis.runs.study.ray_runner`
(:func:`run_study`), :mod:`~pyrodis.runs.study.analyses` (from the table),
:mod:`~pyrodis.runs.study.encoder_analyses` (from the trained encoders) and
:mod:`~pyrodis.runs.study.report` (``study.html``). The names below load on first use, so that
importing the package does not start Ray or load SciPy.
"""

from __future__ import annotations

from pyrodis.lazy_exports import lazy_exports

_HOMES = {
    "SPEC_FILE": "ray_runner",
    "StudyError": "file",
    "StudySpec": "file",
    "Trial": "file",
    "expand_trials": "file",
    "read_study": "file",
    "run_study": "ray_runner",
    "write_study_report": "report",
}

__all__ = sorted(_HOMES)


__getattr__, __dir__ = lazy_exports(__name__, _HOMES)
