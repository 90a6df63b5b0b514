"""DIP-VAE: the ELBO plus a penalty matching the moments of the aggregate posterior to N(0, I).

Kumar et al. (2018) penalise the covariance C of the aggregate posterior, estimated on the batch::

    R + KL + λ_od · Σ_{i≠j} C_ij² + λ_d · Σ_i (C_ii − 1)²

    DIP-VAE-I:   C = Cov_x[μ(x)]
    DIP-VAE-II:  C = Cov_x[μ(x)] + E_x[diag σ²(x)]      (a diagonal MATRIX added)

μ(x), σ²(x) are the guide's mean and variance, Cov the batch covariance (1/B) of the points
that ``poutine.mask`` keeps (a masked point does not enter the moments). The penalty is per
data point and enters the dataset-unit loss multiplied by N (times any ``poutine.scale``). Defaults: λ_d = 10·λ_od (type I),
λ_d = λ_od (type II); sweep λ_od ∈ {1, 2, 5, 10, 20, 50}.

Reference: Kumar, Sattigeri, Balakrishnan, "Variational inference of disentangled latent concepts
from unlabeled observations", ICLR 2018.
"""

from __future__ import annotations

from typing import Any

import torch

from pyrodis.inference.base import DisentanglingELBO, check_hyperparameter
from pyrodis.inference.elbo_parts import ELBOParts

__all__ = ["DIPELBO", "dip_covariance"]


def dip_covariance(mean: torch.Tensor, variance: torch.Tensor, kind: str = "i") -> torch.Tensor:
    """The DIP-VAE covariance ``(D, D)`` from guide means and variances ``(B, D)``."""
    centred = mean - mean.mean(0, keepdim=True)
    cov = centred.T @ centred / mean.shape[0]
    if kind == "ii":
        cov = cov + torch.diag(variance.mean(0))
    return cov


class DIPELBO(DisentanglingELBO):
    """DIP-VAE loss, type ``"i"`` or ``"ii"``.

    Args:
        lambda_od: weight of the off-diagonal penalty (≥ 0).
        lambda_d: weight of the diagonal penalty (≥ 0); ``None``: 10·λ_od (I) or λ_od (II).
        kind: ``"i"`` or ``"ii"``.
        latent_sites: as for every pyrodis ELBO (:class:`~pyrodis.inference.DisentanglingELBO`).
        data_plate: as for every pyrodis ELBO.
        **elbo_kwargs: as for every pyrodis ELBO.

    ``last_terms``: ``loss``, ``recon``, ``kl``, ``dip_offdiag`` (Σ_{i≠j} C_ij²), ``dip_diag``
    (Σ_i (C_ii − 1)²).
    """

    def __init__(
        self,
        lambda_od: float = 10.0,
        lambda_d: float | None = None,
        kind: str = "i",
        latent_sites=None,
        data_plate: str | None = None,
        **elbo_kwargs: Any,
    ):
        super().__init__(latent_sites=latent_sites, data_plate=data_plate, **elbo_kwargs)
        if kind not in ("i", "ii"):
            raise ValueError(f"kind must be 'i' or 'ii', got {kind!r}")
        self.kind = kind
        self.lambda_od = check_hyperparameter("lambda_od", lambda_od)
        if lambda_d is None:
            lambda_d = 10.0 * self.lambda_od if kind == "i" else self.lambda_od
        self.lambda_d = check_hyperparameter("lambda_d", lambda_d)

    def _latent_loss(self, parts: ELBOParts) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        mean, variance = parts.guide_moments()
        kept = parts.kept()  # the moments of the unmasked points only
        if kept is not None:
            mean, variance = mean[kept], variance[kept]
            if len(kept) == 0:
                zero = mean.new_zeros(())
                return parts.kl, {"dip_offdiag": zero, "dip_diag": zero}
        cov = dip_covariance(mean, variance, kind=self.kind)
        diag = torch.diagonal(cov)
        offdiag = (cov**2).sum() - (diag**2).sum()
        on_diag = ((diag - 1.0) ** 2).sum()
        penalty = self.lambda_od * offdiag + self.lambda_d * on_diag
        return parts.kl + parts.units * penalty, {"dip_offdiag": offdiag, "dip_diag": on_diag}
