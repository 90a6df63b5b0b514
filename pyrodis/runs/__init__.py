"""The application layer: configs, presets, objectives, run directories with atomic checkpoints,
training into a run, evaluating it, and its report; studies of many runs on Ray
(``docs/runs.rst``)."""

from pyrodis.runs.checkpoint import CheckpointError, load_latest_checkpoint, save_checkpoint
from pyrodis.runs.config import Config, ConfigError
from pyrodis.runs.evaluate import evaluate_run
from pyrodis.runs.objectives import OBJECTIVES
from pyrodis.runs.presets import BUDGETS, describe_presets, preset_config
from pyrodis.runs.report import write_report
from pyrodis.runs.resolve import resolve_config
from pyrodis.runs.run import Run, load_run
from pyrodis.runs.study import run_study
from pyrodis.runs.study_file import StudyError, read_study
from pyrodis.runs.study_report import write_study_report
from pyrodis.runs.train import train_run

__all__ = [
    "BUDGETS",
    "OBJECTIVES",
    "CheckpointError",
    "Config",
    "ConfigError",
    "Run",
    "StudyError",
    "describe_presets",
    "evaluate_run",
    "load_latest_checkpoint",
    "load_run",
    "preset_config",
    "read_study",
    "resolve_config",
    "run_study",
    "save_checkpoint",
    "train_run",
    "write_report",
    "write_study_report",
]
