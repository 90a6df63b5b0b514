"""Ada-GVAE and Ada-ML-VAE: a VAE trained on pairs of images that share unknown factors.

Locatello et al. (2020, "Weakly-Supervised Disentanglement Without Compromises", ICML). One
encoder gives factorised Gaussians q(z|x1), q(z|x2). Per pair and latent j,

    δ_j = KL(q(z_j|x1) ‖ q(z_j|x2)),        τ = ½ (max_j δ_j + min_j δ_j),

and the latents with δ_j < τ are taken as shared (:func:`adaptive_shared_mask`). A shared latent
takes one aggregated posterior in BOTH images (:func:`aggregate_pair`): GVAE averages the
parameters, μ = ½(μ1 + μ2), σ² = ½(σ1² + σ2²); ML-VAE takes the product of the two Gaussians,
1/σ² = 1/σ1² + 1/σ2², μ = σ²(μ1/σ1² + μ2/σ2²) (the paper's code doubles this variance; not here).
The other latents keep each image's own posterior. With the shared factors known (the "-Labels"
variants), latent j is shared when factor j is (:func:`shared_latents`).

As a Pyro model/guide pair (latent-site contract, ``docs/contract.rst``), the 2B images of B pairs
are the rows of one latent site, both images of pair i carrying the pair's index::

    model:  with plate("data", size=N, subsample=cat(indices, indices)):     # N pairs, 2B rows
                z ~ N(0, I)                      # site "z", (2B, D): rows i and B+i, pair i
                x ~ p(x | decoder(z))            # site "x", obs = cat(x1, x2)
    guide:  with plate("data", size=N, subsample=cat(indices, indices)):
                z ~ Normal(cat(loc1', loc2'), cat(scale1', scale2'))   # aggregated posteriors

The plate's scale N/(2B) makes the loss per pair the average over its two images of
(reconstruction + KL of the aggregated posterior to the prior), and the ELBOs' reported terms nats
per image, so :class:`pyrodis.inference.BetaELBO` trains it through plain ``SVI`` with β and
every term meaning what they mean for a VAE. The other ELBOs run too, but their batch estimators
(TC, DIP covariance, FactorVAE permutations) take the 2B rows as independent data points, which
the two rows of a pair are not. Protocol: ``docs/weak_supervision.rst``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pyro
import pyro.distributions as dist
import torch
from pyro.nn import pyro_method

from pyrodis.models.param_names import claim_param_names
from pyrodis.models.vae import VAE

__all__ = [
    "AGGREGATIONS",
    "PairVAE",
    "adaptive_shared_mask",
    "aggregate_pair",
    "pair_kl",
    "shared_latents",
]

AGGREGATIONS = {
    "gvae": "shared latents average the two posteriors' parameters (Ada-GVAE)",
    "ml-vae": "shared latents take the product of the two posteriors (Ada-ML-VAE)",
}

OptTensor = torch.Tensor | None
Posteriors = tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]


def pair_kl(
    loc1: torch.Tensor, scale1: torch.Tensor, loc2: torch.Tensor, scale2: torch.Tensor
) -> torch.Tensor:
    """δ = KL(N(loc1, scale1²) ‖ N(loc2, scale2²)) elementwise, e.g. ``(n, D)``."""
    var1, var2 = scale1**2, scale2**2
    return torch.log(scale2) - torch.log(scale1) + (var1 + (loc1 - loc2) ** 2) / (2 * var2) - 0.5


def adaptive_shared_mask(delta: torch.Tensor) -> torch.Tensor:
    """The shared latents of each pair, bool ``(n, D)``: δ_j < τ = ½(max_j δ_j + min_j δ_j).

    A δ equal to τ counts as changed. When all δ of a pair are equal (max = min, e.g. identical
    images, all δ = 0, or D = 1) nothing tells the latents apart and every latent is shared.
    """
    high, low = delta.max(-1, keepdim=True).values, delta.min(-1, keepdim=True).values
    return (delta < 0.5 * (high + low)) | (high == low)


def _check_mask(shared: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    shared = torch.as_tensor(shared, device=like.device)
    if shared.dtype != torch.bool or shared.shape != like.shape:
        raise ValueError(
            f"shared must be a bool mask of shape {tuple(like.shape)} (True: latent shared), got "
            f"{shared.dtype} {tuple(shared.shape)}; from shared-factor labels use "
            "shared_latents(labels, latent_dim)"
        )
    return shared


def aggregate_pair(
    loc1: torch.Tensor,
    scale1: torch.Tensor,
    loc2: torch.Tensor,
    scale2: torch.Tensor,
    kind: str = "gvae",
    shared: torch.Tensor | None = None,
) -> Posteriors:
    """Both images' posteriors after aggregating the shared latents (see the module docstring).

    Args:
        loc1, scale1, loc2, scale2: the two images' factorised Gaussians, each ``(n, D)``.
        kind: ``"gvae"`` (average of the parameters) or ``"ml-vae"`` (product of Gaussians).
        shared: bool ``(n, D)`` mask of the shared latents; ``None``: the adaptive threshold
            on δ (:func:`adaptive_shared_mask`).

    Returns:
        ``(loc1', scale1', loc2', scale2', shared)``: the shared latents hold the aggregated
        posterior in both images, the others each image's own; ``shared`` the mask used.
    """
    if kind not in AGGREGATIONS:
        raise ValueError(f"unknown aggregation kind {kind!r}; choose one of {sorted(AGGREGATIONS)}")
    if shared is None:
        shared = adaptive_shared_mask(pair_kl(loc1, scale1, loc2, scale2))
    else:
        shared = _check_mask(shared, loc1)
    var1, var2 = scale1**2, scale2**2
    if kind == "gvae":
        loc, var = 0.5 * (loc1 + loc2), 0.5 * (var1 + var2)
    else:
        var = 1.0 / (1.0 / var1 + 1.0 / var2)
        loc = var * (loc1 / var1 + loc2 / var2)
    scale = var.sqrt()
    return (
        torch.where(shared, loc, loc1),
        torch.where(shared, scale, scale1),
        torch.where(shared, loc, loc2),
        torch.where(shared, scale, scale2),
        shared,
    )


def shared_latents(shared_factors: torch.Tensor | np.ndarray, latent_dim: int) -> torch.Tensor:
    """Latent mask ``(n, D)`` from shared-factor labels ``(n, K)``, K ≤ D.

    Latent j < K is shared when factor j is; the extra latents j ≥ K are always shared (no factor
    of theirs changes). A ``(n, D)`` mask is returned unchanged.
    """
    labels = torch.as_tensor(shared_factors)
    if labels.dtype != torch.bool or labels.ndim != 2 or labels.shape[1] > latent_dim:
        raise ValueError(
            f"shared-factor labels must be a bool (n, K) mask with K <= latent_dim={latent_dim} "
            f"(one latent per factor), got {labels.dtype} {tuple(labels.shape)}; use a larger "
            "latent_dim or PairedFactors.draw_batch(..., labels=True)"
        )
    pad = labels.new_ones(labels.shape[0], latent_dim - labels.shape[1])
    return torch.cat([labels, pad], dim=1)


class PairVAE(VAE):
    """Ada-GVAE / Ada-ML-VAE: a :class:`~pyrodis.models.VAE` trained on pairs of images.

    Args:
        latent_dim: D.
        image_shape: ``(C, H, W)`` of one image.
        aggregation: ``"gvae"`` or ``"ml-vae"`` (:data:`AGGREGATIONS`).
        **vae_kwargs: the other arguments of :class:`~pyrodis.models.VAE` (likelihood,
            architecture, num_data = N, encoder, decoder, ...); the networks and likelihood are
            built exactly as the VAE's, one encoder for both images.

    ``model``/``guide`` take ``(x_pair (B, 2, C, H, W), indices (B,), shared=None)``; ``shared``
    is a bool latent mask ``(B, D)`` or the shared-factor labels ``(B, K)`` (see
    :func:`shared_latents`) that replace the adaptive threshold. Their latent site ``"z"`` holds
    the first images in rows ``0..B-1`` and the second ones in rows ``B..2B-1``. With identical
    images in both slots every latent is shared and the GVAE loss is the VAE's (ML-VAE halves
    the variance).

    Evaluation uses the single-image encoder, as for a VAE: :meth:`encode`, :meth:`decode`,
    :meth:`representation`, and the single-image pair :meth:`model_single`/:meth:`guide_single`
    (site ``"z"``). The parameter names are the VAE's, so a VAE can load its weights.

    Example::

        pairs = PairedFactors(DSprites(), k=1)
        vae = PairVAE(latent_dim=10, num_data=len(pairs))
        svi = SVI(vae.model, vae.guide, Adam({"lr": 1e-4}), loss=BetaELBO(beta=1.0))
        x, indices = pairs.draw_batch(64, np.random.default_rng([seed, step]))
        svi.step(x, indices)
    """

    def __init__(
        self,
        latent_dim: int = 10,
        image_shape: Sequence[int] = (1, 64, 64),
        aggregation: str = "gvae",
        **vae_kwargs: Any,
    ):
        if aggregation not in AGGREGATIONS:
            raise ValueError(
                f"unknown aggregation {aggregation!r}; choose one of {sorted(AGGREGATIONS)}"
            )
        super().__init__(latent_dim=latent_dim, image_shape=image_shape, **vae_kwargs)
        self.aggregation = aggregation

    def _split(self, x_pair: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if x_pair.ndim != 5 or x_pair.shape[1] != 2:
            raise ValueError(
                f"PairVAE takes pairs of shape (B, 2, C, H, W), got {tuple(x_pair.shape)}; draw "
                "them with PairedFactors.draw_batch, or use model_single/guide_single for images"
            )
        return x_pair[:, 0], x_pair[:, 1]

    def aggregate(self, x_pair: torch.Tensor, shared: torch.Tensor | None = None) -> Posteriors:
        """Both images' aggregated posteriors and the shared mask (:func:`aggregate_pair`)."""
        x1, x2 = self._split(x_pair)
        # two encoder calls (not one on the concatenation): identical images give bitwise
        # identical posteriors, hence δ = 0 and every latent shared
        loc1, scale1 = self.encode(x1)
        loc2, scale2 = self.encode(x2)
        if shared is not None:
            shared = shared_latents(shared, self.latent_dim).to(loc1.device)
        return aggregate_pair(loc1, scale1, loc2, scale2, self.aggregation, shared)

    def _pair_plate(self, x_pair: torch.Tensor, indices: OptTensor):
        batch = x_pair.shape[0]
        size = self.num_data if self.num_data is not None else batch
        if indices is None:
            indices = torch.arange(batch, device=x_pair.device)
        return pyro.plate("data", size=size, subsample=torch.cat([indices, indices]))

    @pyro_method
    def model(
        self, x_pair: torch.Tensor, indices: OptTensor = None, shared: OptTensor = None
    ) -> None:
        """Every image of the pairs from its own ``z ~ N(0, I)`` (rows: first, then second)."""
        claim_param_names(self)
        x = torch.cat(self._split(x_pair))
        with self._pair_plate(x_pair, indices):
            zeros = x.new_zeros(x.shape[0], self.latent_dim)
            z = pyro.sample("z", dist.Normal(zeros, 1.0).to_event(1))
            pyro.sample("x", self.likelihood(self.run_network(self.decoder, z)), obs=x)

    @pyro_method
    def guide(
        self, x_pair: torch.Tensor, indices: OptTensor = None, shared: OptTensor = None
    ) -> None:
        """``z`` of every image from its pair's aggregated posterior (:meth:`aggregate`)."""
        claim_param_names(self)
        loc1, scale1, loc2, scale2, _ = self.aggregate(x_pair, shared)
        with self._pair_plate(x_pair, indices):
            loc, scale = torch.cat([loc1, loc2]), torch.cat([scale1, scale2])
            pyro.sample("z", dist.Normal(loc, scale).to_event(1))

    @pyro_method
    def model_single(self, x: torch.Tensor, indices: OptTensor = None) -> None:
        """The VAE's model on single images ``(B, C, H, W)`` (site ``"z"``), for evaluation."""
        VAE.model(self, x, indices)  # claims the parameter names itself

    @pyro_method
    def guide_single(self, x: torch.Tensor, indices: OptTensor = None) -> None:
        """The VAE's guide on single images (site ``"z"``): the encoder used by the metrics."""
        VAE.guide(self, x, indices)  # claims the parameter names itself
