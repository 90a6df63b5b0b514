"""The run report (``pyrodis report RUN``; ``docs/runs.rst``).

:mod:`~pyrodis.runs.report.run_report` computes the numbers and writes the page
(:func:`write_report`), :mod:`~pyrodis.runs.report.sections` turns the numbers into the page's
sections, :mod:`~pyrodis.runs.report.pair_runs` adds the section of weakly-supervised (pair) runs
and :mod:`~pyrodis.runs.report.html` is the HTML they share (also the study report's).
"""

from __future__ import annotations

import importlib
from typing import Any

_HOMES = {"SECTIONS": "run_report", "report_numbers": "run_report", "write_report": "run_report"}

__all__ = sorted(_HOMES)


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'pyrodis.runs.report' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"pyrodis.runs.report.{_HOMES[name]}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_HOMES))
