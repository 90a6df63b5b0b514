"""Capacity-annealed β-VAE (Burgess et al. 2018).

Objective per data point (minimised)::

    R + γ · | KL − C(t) |,     C(t) = C_max · min(1, t / T)

where KL is the batch mean of the Monte Carlo KL ``log q(z|x) − log p(z)`` (summed over latents,
in nats) and t counts training steps: it advances once per ``loss_and_grads`` call (one
``svi.step``), never on ``loss``/evaluation calls. ``anneal_steps=0`` uses C_max from the start.
Paper settings on dSprites: γ = 1000, C_max = 25 nats, T = 100,000.

Reference: Burgess et al., "Understanding disentangling in β-VAE", NeurIPS workshop 2017
(arXiv:1804.03599).
"""

from __future__ import annotations

from typing import Any

import torch

from pyrodis.inference.base import DisentanglingELBO, check_hyperparameter
from pyrodis.inference.elbo_parts import ELBOParts

__all__ = ["CapacityELBO"]


class CapacityELBO(DisentanglingELBO):
    """β-VAE with a linearly increasing KL target ("capacity").

    Args:
        gamma: weight γ of ``|KL − C(t)|`` (≥ 0).
        capacity_max: C_max in nats (≥ 0).
        anneal_steps: T, steps over which C rises from 0 to C_max (≥ 0).
        latent_sites: as for every pyrodis ELBO (:class:`~pyrodis.inference.DisentanglingELBO`).
        data_plate: as for every pyrodis ELBO.
        **elbo_kwargs: as for every pyrodis ELBO.

    ``last_terms``: ``loss``, ``recon``, ``kl``, ``capacity`` (C(t) used by that call).
    ``num_steps`` is saved by :meth:`state_dict`.
    """

    min_batch_size = 1

    def __init__(
        self,
        gamma: float = 1000.0,
        capacity_max: float = 25.0,
        anneal_steps: int = 100_000,
        latent_sites=None,
        data_plate: str | None = None,
        **elbo_kwargs: Any,
    ):
        super().__init__(latent_sites=latent_sites, data_plate=data_plate, **elbo_kwargs)
        self.gamma = check_hyperparameter("gamma", gamma)
        self.capacity_max = check_hyperparameter("capacity_max", capacity_max)
        self.anneal_steps = int(check_hyperparameter("anneal_steps", anneal_steps))

    @property
    def capacity(self) -> float:
        """C(t) at the current step t = ``num_steps``."""
        if self.anneal_steps == 0:
            return self.capacity_max
        return self.capacity_max * min(1.0, self.num_steps / self.anneal_steps)

    def _latent_loss(self, parts: ELBOParts) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        capacity = self.capacity
        kl_per_point = parts.kl / parts.units
        loss = self.gamma * parts.units * (kl_per_point - capacity).abs()
        return loss, {"capacity": torch.tensor(capacity)}
