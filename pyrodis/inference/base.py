"""The common base of pyrodis' ELBOs: Trace_ELBO with a replaceable KL term and visible terms.

Subclasses implement :meth:`DisentanglingELBO._latent_loss`, which receives the
:class:`~pyrodis.inference.elbo_parts.ELBOParts` of one particle and returns the term that replaces
the KL (in dataset units, like Pyro's loss) together with the terms to report. The loss of a
particle is then ``−log_likelihood − other + latent_loss``; its gradient flows through the
reparameterised guide samples (score-function sites are rejected).

Units: ``loss``/``loss_and_grads``/``svi.step`` return the loss in Pyro's dataset units (summed over
the N data points through the plate's N/B scale, times any ``poutine.scale``). ``last_terms``
reports every term in nats per data point (divided by N times that scale), averaged over
particles, so that the numbers match the papers' per-sample terms whatever scale is applied.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import pyro
import torch
from pyro.infer import Trace_ELBO
from pyro.infer.util import torch_item
from pyro.util import warn_if_nan

from pyrodis.inference.elbo_parts import ELBOParts, elbo_parts

__all__ = ["DisentanglingELBO", "check_hyperparameter", "normalized_beta"]


def check_hyperparameter(name: str, value: float, allow_zero: bool = True) -> float:
    """Return ``float(value)``; raise ValueError for NaN, infinite or negative values."""
    value = float(value)
    if math.isnan(value) or math.isinf(value) or value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be a finite number {bound}, got {value}")
    return value


def normalized_beta(beta: float, num_pixels: int, latent_dim: int) -> float:
    """β_norm = β·M/N (Higgins et al. 2017) for M latents and N pixels, β defined for sums."""
    if num_pixels < 1 or latent_dim < 1:
        raise ValueError("num_pixels and latent_dim must be >= 1")
    return beta * latent_dim / num_pixels


class DisentanglingELBO(Trace_ELBO):
    """Base class; see the module docstring.

    Args:
        latent_sites: names of the guide's latent sites (``None``: every guide sample site in a
            data plate; see :func:`~pyrodis.inference.latent_sites.find_latent_sites`).
        data_plate: name of the data plate (``None``: the outermost plate of the model's
            observed site, see ``docs/contract.rst``).
        **elbo_kwargs: forwarded by keyword to :class:`pyro.infer.Trace_ELBO`
            (``num_particles``, ``retain_graph``, …).

    Attributes:
        last_terms: ``dict[str, float]``, the terms of the last ``loss``/``loss_and_grads``/
            ``differentiable_loss`` call, per data point.
        num_steps: number of completed training steps (``loss_and_grads`` calls or
            :meth:`end_step` calls); plain ``loss`` evaluations do not count. A training step
            on an empty param store (after ``pyro.clear_param_store()``) restarts it at 0.
    """

    #: smallest batch the ELBO accepts
    min_batch_size = 2

    def __init__(self, latent_sites=None, data_plate: str | None = None, **elbo_kwargs: Any):
        if elbo_kwargs.get("vectorize_particles"):
            raise ValueError(
                "vectorize_particles=True is not supported: the aggregate-posterior terms need "
                "one (B, D) sample per particle; use num_particles without vectorisation"
            )
        super().__init__(**elbo_kwargs)
        self.latent_sites = latent_sites
        self.data_plate = data_plate
        self.last_terms: dict[str, float] = {}
        self.num_steps = 0
        self._store_filled = False
        self._particle_terms: list[dict[str, float]] = []
        self._last_sizes: tuple[int, int] | None = None

    # --- what subclasses implement -------------------------------------------------------------
    def _latent_loss(self, parts: ELBOParts) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Return (the term replacing ``parts.kl``, in dataset units; per-point terms to report)."""
        raise NotImplementedError

    def _after_step(self) -> None:
        """Hook run once per training step after the gradients are computed."""

    # --- Trace_ELBO plumbing -------------------------------------------------------------------
    def _differentiable_loss_particle(self, model_trace, guide_trace):
        parts = elbo_parts(
            model_trace, guide_trace, self.latent_sites, self.min_batch_size, self.data_plate
        )
        latent_loss, terms = self._latent_loss(parts)
        loss = latent_loss - parts.log_likelihood - parts.other
        n = parts.units  # dataset units -> nats per data point, whatever poutine.scale applies
        report = {
            "loss": torch_item(loss) / n,
            "recon": -torch_item(parts.log_likelihood) / n,
            "kl": torch_item(parts.kl) / n,
        }
        if parts.has_other:
            report["other"] = -torch_item(parts.other) / n
        report.update({k: torch_item(v) for k, v in terms.items()})
        self._particle_terms.append(report)
        self._last_sizes = (parts.num_pixels, parts.latent_dim)
        return torch_item(loss), loss

    def _publish_terms(self) -> None:
        particles, self._particle_terms = self._particle_terms, []
        if particles:
            self.last_terms = {
                k: sum(p.get(k, 0.0) for p in particles) / len(particles) for k in particles[0]
            }

    def loss(self, model, guide, *args, **kwargs) -> float:
        """Evaluate the loss (dataset units) without gradients; does not advance ``num_steps``."""
        self._particle_terms = []
        total = 0.0
        with torch.no_grad():
            for model_trace, guide_trace in self._get_traces(model, guide, args, kwargs):
                total += self._differentiable_loss_particle(model_trace, guide_trace)[0]
        self._publish_terms()
        loss = total / self.num_particles
        warn_if_nan(loss, "loss")
        return loss

    def differentiable_loss(self, model, guide, *args, **kwargs) -> torch.Tensor:
        """The differentiable loss. When training with it and a torch optimiser instead of
        ``SVI``, call :meth:`end_step` once after each backward pass/optimiser step."""
        self._particle_terms = []
        if torch.is_grad_enabled():
            self._restart_if_store_cleared()
        loss = super().differentiable_loss(model, guide, *args, **kwargs)
        self._publish_terms()
        return loss

    def loss_and_grads(self, model, guide, *args, **kwargs) -> float:
        """Loss (dataset units) and gradients (``SVI.step`` calls this); one training step."""
        self._particle_terms = []
        self._restart_if_store_cleared()
        loss = super().loss_and_grads(model, guide, *args, **kwargs)
        self._publish_terms()
        self.end_step()
        return loss

    def _restart_if_store_cleared(self) -> None:
        """A training step on an empty param store starts a new run (``pyro.clear_param_store()``
        between two runs with the same ELBO): the step count, and the schedules that follow it,
        start again at 0, with a warning. Resuming restores the store first."""
        if self._store_filled and len(pyro.get_param_store()) == 0:
            self._store_filled = False
            warnings.warn(
                f"{type(self).__name__}: the param store is empty after {self.num_steps} steps "
                "(pyro.clear_param_store()): a new training run, num_steps restarts at 0",
                UserWarning,
                stacklevel=3,
            )
            self.num_steps = 0

    def end_step(self) -> None:
        """Finish a training step: run per-step updates and advance ``num_steps``.

        ``loss_and_grads`` (hence ``SVI.step``) calls it; call it yourself only when training
        through :meth:`differentiable_loss`, after the backward pass.
        """
        self._after_step()
        self.num_steps += 1
        # module-local parameters never fill the store: then no restart is ever detected
        self._store_filled = len(pyro.get_param_store()) > 0

    # --- reporting and checkpoints -------------------------------------------------------------
    def _beta_norm(self, beta: float, num_pixels: int | None, latent_dim: int | None) -> float:
        if num_pixels is None or latent_dim is None:
            if self._last_sizes is None:
                raise ValueError(
                    "pass num_pixels and latent_dim, or call the ELBO once so it knows them"
                )
            num_pixels = num_pixels or self._last_sizes[0]
            latent_dim = latent_dim or self._last_sizes[1]
        return normalized_beta(beta, num_pixels, latent_dim)

    def state_dict(self) -> dict[str, Any]:
        """State that a checkpoint must restore (``torch.load(weights_only=True)``-safe)."""
        return {"num_steps": int(self.num_steps)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned."""
        self.num_steps = int(state["num_steps"])
