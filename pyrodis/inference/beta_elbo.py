"""β-VAE: the ELBO with its KL term weighted by β (Higgins et al. 2017).

Objective per data point (minimised), with R = −log p(x|z) summed over pixels and the KL summed
over latents::

    R + β · (log q(z|x) − log p(z))          # Monte Carlo KL, as Trace_ELBO estimates it

β scales the whole KL (guide AND prior), never one side alone. β is defined for sums;
β_norm = β·M/N for M latents and N pixels (:meth:`BetaELBO.beta_norm`).

Reference: Higgins et al., "β-VAE: Learning basic visual concepts with a constrained variational
framework", ICLR 2017.
"""

from __future__ import annotations

from typing import Any

import torch

from pyrodis.inference.base import DisentanglingELBO, check_hyperparameter
from pyrodis.inference.elbo_parts import ELBOParts

__all__ = ["BetaELBO", "VAEELBO"]


class BetaELBO(DisentanglingELBO):
    """β-VAE loss; ``beta=1`` is Pyro's ``Trace_ELBO`` with the terms reported.

    Args:
        beta: weight of the KL term (≥ 0).
        latent_sites: guide latent site names (``None``: found from the data plate).
        **elbo_kwargs: forwarded to :class:`pyro.infer.Trace_ELBO`.

    ``last_terms``: ``loss``, ``recon``, ``kl`` (per data point).
    """

    min_batch_size = 1

    def __init__(
        self,
        beta: float = 4.0,
        latent_sites=None,
        data_plate: str | None = None,
        **elbo_kwargs: Any,
    ):
        super().__init__(latent_sites=latent_sites, data_plate=data_plate, **elbo_kwargs)
        self.beta = check_hyperparameter("beta", beta)

    def _latent_loss(self, parts: ELBOParts) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        return self.beta * parts.kl, {}

    def beta_norm(self, num_pixels: int | None = None, latent_dim: int | None = None) -> float:
        """β·M/N; sizes default to those of the last call."""
        return self._beta_norm(self.beta, num_pixels, latent_dim)


class VAEELBO(BetaELBO):
    """The plain VAE loss (β = 1) with its terms reported: the baseline."""

    def __init__(self, latent_sites=None, data_plate: str | None = None, **elbo_kwargs: Any):
        super().__init__(1.0, latent_sites=latent_sites, data_plate=data_plate, **elbo_kwargs)
