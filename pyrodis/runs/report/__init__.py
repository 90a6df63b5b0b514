"""The run report (``pyrodis report RUN``; ``docs/runs.rst``).

:mod:`~pyrodis.runs.report.run_report` computes the numbers and writes the page
(:func:`write_report`), :mod:`~pyrodis.runs.report.sections` turns the numbers into the page's
sections, :mod:`~pyrodis.runs.report.pair_runs` adds the section of weakly-supervised (pair) runs
and :mod:`~pyrodis.runs.report.html` is the HTML they share (also the study report's).
"""

from __future__ import annotations

from pyrodis.lazy_exports import lazy_exports

_HOMES = {"SECTIONS": "run_report", "report_numbers": "run_report", "write_report": "run_report"}

__all__ = sorted(_HOMES)


__getattr__, __dir__ = lazy_exports(__name__, _HOMES)
