"""A trained run and :func:`load_run`, which gives it back from its run directory
(:class:`~pyrodis.runs.run_directory.RunDirectory`, ``docs/runs.rst``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from pyrodis.data import as_source
from pyrodis.runs.build import build_dataset, build_device, build_model
from pyrodis.runs.checkpoint import CheckpointError
from pyrodis.runs.config import Config, ConfigError
from pyrodis.runs.run_directory import RunDirectory
from pyrodis.training.param_state import ParameterMismatch, restore_params

__all__ = ["Run", "load_run", "restore_model", "single_image_pair"]


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


def load_run(path: str | Path, device: str | None = "cpu") -> Run:
    """Load the newest good checkpoint of the run at ``path`` into a fresh VAE on ``device``
    (``"cpu"`` by default, whatever device trained it; ``None``: the run's own setting).

    The dataset is the independent grid (evaluation data) even if training used correlated
    factors. The history is the checkpoint's (consistent with its weights, also while the run is
    being trained). Other models' parameters in Pyro's param store are left alone.
    """
    path = Path(path)
    run_dir = RunDirectory(path)
    config, _, state, step = run_dir.read()
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
    history = state.get("history") or run_dir.read_log()
    history = [r for r in history if r["step"] <= step]
    return Run(path, config, vae, dataset, history, run_dir.read_metrics(), step)
