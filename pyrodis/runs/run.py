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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from pyrodis.data import as_source
from pyrodis.inference.param_state import ParameterMismatch, restore_params
from pyrodis.runs.build import build_dataset, build_device, build_model
from pyrodis.runs.checkpoint import load_latest_checkpoint
from pyrodis.runs.config import Config, ConfigError

CONFIG_FILE, LOG_FILE, METRICS_FILE, CHECKPOINTS = (
    "config.json",
    "log.csv",
    "metrics.json",
    "checkpoints",
)


def read_log(path: Path) -> list[dict[str, float]]:
    """Rows of ``log.csv`` as dicts of floats (empty when there is no log yet)."""
    if not path.exists():
        return []
    with open(path, newline="") as fh:
        rows = [
            {k: float(v) if v not in ("", None) else math.nan for k, v in row.items()}
            for row in csv.DictReader(fh)
        ]
    for row in rows:
        row["step"] = int(row["step"])
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
    raw = json.loads(path.read_text())
    try:
        return Config.from_dict(raw["config"]), raw
    except (KeyError, ConfigError) as err:
        raise ConfigError(f"{path} is not a valid pyrodis run config: {err}") from err


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
    :func:`pyrodis.inference.param_state.restore_params`)."""
    idx = as_source(dataset).select(2)
    device = next(vae.parameters()).device
    args = (as_source(dataset).observations(idx).to(device), torch.from_numpy(idx).to(device))
    model, guide = single_image_pair(vae)
    restore_params(model, guide, args, params)


def single_image_pair(vae: Any) -> tuple[Any, Any]:
    """The model/guide of single images: a pair model's ``model_single``/``guide_single`` (the
    model is ``None`` for an object that has only a guide)."""
    model = getattr(vae, "model_single", getattr(vae, "model", None))
    return model, getattr(vae, "guide_single", vae.guide)


def load_run(path: str | Path, device: str | None = "cpu") -> Run:
    """Load the newest good checkpoint of the run at ``path`` into a fresh VAE on ``device``
    (``"cpu"`` by default, whatever device trained it; ``None``: the run's own setting).

    The dataset is the independent grid (evaluation data) even if training used correlated
    factors. Other models' parameters in Pyro's param store are left alone.
    """
    path = Path(path)
    config, _ = read_config(path)
    dataset = build_dataset(config, training=False)
    vae = build_model(config, dataset).to(build_device(config, device))
    state, step = load_latest_checkpoint(path / CHECKPOINTS)
    try:
        restore_model(vae, dataset, state["params"])
    except ParameterMismatch as err:
        raise ConfigError(
            f"checkpoint of {path} does not fit the model its config builds: {err}"
        ) from None
    vae.eval()
    metrics_path = path / METRICS_FILE
    metrics = json.loads(metrics_path.read_text()) if metrics_path.exists() else None
    return Run(path, config, vae, dataset, read_log(path / LOG_FILE), metrics, step)
