"""The application layer: configs, presets, objectives, run directories with atomic checkpoints,
training into a run, evaluating it, and its report; studies of many runs on Ray
(``docs/runs.rst``).

The names below are imported on first use, so that ``pyrodis train`` does not load the metrics
and report stack (scikit-learn, SciPy, matplotlib) it never calls.
"""

from __future__ import annotations

import importlib
from typing import Any

_HOMES = {
    "BUDGETS": "presets",
    "OBJECTIVES": "objectives",
    "CheckpointError": "checkpoint",
    "Config": "config",
    "ConfigError": "config",
    "Run": "run",
    "StudyError": "study_file",
    "read_study": "study_file",
    "run_study": "study",
    "write_study_report": "study_report",
    "describe_presets": "presets",
    "evaluate_run": "evaluate",
    "load_latest_checkpoint": "checkpoint",
    "load_run": "run",
    "preset_config": "presets",
    "resolve_config": "resolve",
    "save_checkpoint": "checkpoint",
    "train_run": "train",
    "write_report": "report",
}

__all__ = sorted(_HOMES)


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        try:  # a submodule, e.g. pyrodis.runs.train after `import pyrodis.runs`
            return importlib.import_module(f"pyrodis.runs.{name}")
        except ModuleNotFoundError:
            raise AttributeError(f"module 'pyrodis.runs' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(f"pyrodis.runs.{_HOMES[name]}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_HOMES))
