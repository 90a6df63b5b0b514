"""A run directory on disk and :func:`load_run`, which gives back what it trained.

Layout (``docs/runs.rst``)::

    RUN/config.json        the full config, the library and torch/pyro versions, the history
    RUN/log.csv            one row per logged step: step and every ELBO term
    RUN/checkpoints/       step_XXXXXXXX.pt and latest.json (see pyrodis.runs.checkpoint)
    RUN/metrics.json       `pyrodis evaluate RUN`
    RUN/figures/, RUN/report.html, RUN/report.json    `pyrodis report RUN`
"""

from __future__ import annotations

import csv
import json
import math
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from pyrodis.data import as_source
from pyrodis.runs.build import build_dataset, build_device, build_model
from pyrodis.runs.checkpoint import CheckpointError, load_latest_checkpoint
from pyrodis.runs.config import Config, ConfigError
from pyrodis.training.param_state import ParameterMismatch, restore_params

CONFIG_FILE, LOG_FILE, METRICS_FILE, CHECKPOINTS = (
    "config.json",
    "log.csv",
    "metrics.json",
    "checkpoints",
)


def read_log(path: Path) -> list[dict[str, float]]:
    """Rows of ``log.csv`` as dicts of floats (empty when there is no log yet).

    A damaged row (not numbers, wrong number of fields, unreadable bytes) is skipped with a
    warning naming the file and line: the checkpoints hold the full history, and a resumed run
    rewrites the log from them."""
    if not path.exists():
        return []
    rows: list[dict[str, float]] = []
    with open(path, newline="", errors="replace") as fh:
        reader = csv.DictReader(fh)
        for row in reader:
            try:
                if None in row or None in row.values():
                    raise ValueError("wrong number of fields")
                parsed = {k: float(v) if v != "" else math.nan for k, v in row.items()}
                parsed["step"] = int(row["step"])
            except (KeyError, ValueError, TypeError) as err:
                warnings.warn(
                    f"{path}: skipping damaged line {reader.line_num} ({err}); the run's "
                    "checkpoints hold the full history",
                    stacklevel=2,
                )
                continue
            rows.append(parsed)
    return rows


def write_log(path: Path, rows: list[dict[str, float]]) -> None:
    """Rewrite ``log.csv`` with ``rows`` (columns: the union of the rows' keys, step first)."""
    keys: list[str] = []
    for row in rows:
        keys += [k for k in row if k not in keys]
    tmp = path.with_suffix(".csv.tmp")
    with open(tmp, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=keys)
        writer.writeheader()
        writer.writerows(rows)
    tmp.replace(path)


def read_config(run_dir: Path) -> tuple[Config, dict[str, Any]]:
    """The run's :class:`Config` and the raw JSON (with versions) from ``config.json``."""
    path = Path(run_dir) / CONFIG_FILE
    if not path.exists():
        raise FileNotFoundError(
            f"{run_dir} is not a pyrodis run (no {CONFIG_FILE}); train one with "
            "`pyrodis train --out DIR`"
        )
    try:
        raw = json.loads(path.read_bytes().decode("utf-8"))
        return Config.from_dict(raw["config"]), raw
    except (KeyError, TypeError, ValueError) as err:  # ValueError: JSON, UTF-8, ConfigError
        raise ConfigError(f"{path} is not a valid pyrodis run config: {err}") from err


def latest_checkpoint(run_dir: Path) -> tuple[dict[str, Any] | None, int]:
    """The newest good checkpoint of the run, or ``(None, 0)`` when it has none yet (a run
    stopped before its first checkpoint); raises when checkpoints exist but none is usable."""
    try:
        return load_latest_checkpoint(Path(run_dir) / CHECKPOINTS)
    except CheckpointError:
        if any((Path(run_dir) / CHECKPOINTS).glob("step_*.pt")):
            raise
        return None, 0


def read_run_files(run_dir: Path) -> tuple[Config, dict[str, Any], dict[str, Any] | None, int]:
    """``(config, record, state, step)`` of a run: its config (``record`` is the config.json
    record with versions and history) and newest good checkpoint.

    A missing or damaged ``config.json`` is recovered from the record every checkpoint holds,
    with a warning naming the file; without one the error says what is wrong.
    """
    state, step = latest_checkpoint(run_dir)
    try:
        config, record = read_config(run_dir)
    except (FileNotFoundError, ConfigError) as err:
        saved = (state or {}).get("run")
        if not saved:
            raise
        warnings.warn(
            f"{err}; using the config stored in checkpoint step {step} instead (a resumed run "
            f"rewrites {CONFIG_FILE})",
            stacklevel=2,
        )
        return Config.from_dict(saved["config"]), dict(saved), state, step
    return config, record, state, step


@dataclass
class Run:
    """A trained run: its config, trained VAE (eval mode), dataset, log and metrics."""

    path: Path
    config: Config
    vae: Any
    dataset: Any
    history: list[dict[str, float]]
    metrics: dict[str, Any] | None
    step: int

    @property
    def elbo_name(self) -> str:
        return self.config.objective.name

    @property
    def model(self) -> Any:
        return self.vae.model

    @property
    def guide(self) -> Any:
        return self.vae.guide


def restore_model(vae: Any, dataset: Any, params: dict[str, torch.Tensor]) -> None:
    """Copy saved parameters into ``vae`` (the one restore path; see
    :func:`pyrodis.training.param_state.restore_params`)."""
    source = as_source(dataset)
    idx = source.select(2)
    device = next(vae.parameters()).device
    args = (source.observations(idx).to(device), torch.from_numpy(idx).to(device))
    model, guide = single_image_pair(vae)
    restore_params(model, guide, args, params)


def single_image_pair(vae: Any) -> tuple[Any, Any]:
    """The model/guide of single images: a pair model's ``model_single``/``guide_single`` (the
    model is ``None`` for an object that has only a guide)."""
    model = getattr(vae, "model_single", getattr(vae, "model", None))
    return model, getattr(vae, "guide_single", vae.guide)


def _read_metrics(path: Path) -> dict[str, Any] | None:
    if not path.exists():
        return None
    try:
        return json.loads(path.read_bytes().decode("utf-8"))
    except ValueError as err:
        warnings.warn(
            f"{path} is damaged ({err}); ignoring it (run `pyrodis evaluate` again)", stacklevel=3
        )
        return None


def load_run(path: str | Path, device: str | None = "cpu") -> Run:
    """Load the newest good checkpoint of the run at ``path`` into a fresh VAE on ``device``
    (``"cpu"`` by default, whatever device trained it; ``None``: the run's own setting).

    The dataset is the independent grid (evaluation data) even if training used correlated
    factors. The history is the checkpoint's (consistent with its weights, also while the run is
    being trained). Other models' parameters in Pyro's param store are left alone.
    """
    path = Path(path)
    config, _, state, step = read_run_files(path)
    if state is None:
        raise CheckpointError(
            f"{path} has no checkpoint yet (training stopped before the first one); continue it "
            f"from step 0 with `pyrodis train --resume {path}`"
        )
    dataset = build_dataset(config, training=False)
    vae = build_model(config, dataset).to(build_device(config, device))
    try:
        restore_model(vae, dataset, state["params"])
    except ParameterMismatch as err:
        raise ConfigError(
            f"checkpoint of {path} does not fit the model its config builds: {err}"
        ) from None
    vae.eval()
    history = state.get("history") or read_log(path / LOG_FILE)
    history = [r for r in history if r["step"] <= step]
    return Run(path, config, vae, dataset, history, _read_metrics(path / METRICS_FILE), step)
