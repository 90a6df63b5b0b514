"""Split a (model, guide) trace pair into the pieces every disentangling ELBO recombines.

With latent sites z (see :mod:`pyrodis.inference.latent_sites`), Pyro's ``Trace_ELBO`` loss is

    −ELBO = −log_likelihood − other + kl,

where ``log_likelihood`` sums the observed model sites, ``kl`` sums ``log q(z|x) − log p(z)`` over
the latent sites and ``other`` collects every remaining site (e.g. global latents), all scaled by
their sites' scale factors (N/B inside the data plate): the loss is in dataset units. The ELBOs
replace ``kl`` by their own term and keep the rest as Pyro computes it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from pyro.distributions.util import is_identically_zero
from pyro.poutine import Trace

from pyrodis.inference.latent_sites import (
    LatentSite,
    LatentSiteError,
    find_latent_sites,
    per_point,
    point_mask,
)
from pyrodis.inference.tc_estimators import pairwise_log_density

__all__ = ["ELBOParts", "elbo_parts"]


@dataclass
class ELBOParts:
    """The pieces of one particle's ELBO (see the module docstring).

    Attributes:
        sites: the latent sites.
        log_likelihood: Σ of the observed sites' scaled log-probabilities (a scalar tensor).
        other: Σ model − Σ guide scaled log-probabilities of the non-latent sites.
        kl: Σ over latent sites of the scaled ``log q(z|x) − log p(z)`` (Monte Carlo KL).
        log_q: ``(B,)`` per-point ``log q(z_i|x_i)`` (unscaled, summed over latent sites).
        log_p: ``(B,)`` per-point ``log p(z_i)`` (unscaled).
        scale: per-point → dataset units (N/B times any ``poutine.scale``).
        units: Σ over the batch of ``scale``, i.e. N times any ``poutine.scale``: a per-point
            mean times ``units`` is in dataset units, and dataset units / ``units`` are nats per
            data point whatever scale the user applied.
        num_data: N.
        num_pixels: number of observed values per data point (β_norm's N).
        has_other: whether any non-latent unobserved site contributed to ``other``.
        mask: ``(B,)`` booleans, False for the points ``poutine.mask`` masks out (the same in
            model and guide at every latent site), or ``None``. A masked point contributes no
            term: ``log_q`` and ``log_p`` are 0 there, and the aggregate-posterior terms use
            the unmasked points only (:meth:`kept`, ``docs/contract.rst``, "Masks").
    """

    sites: list[LatentSite]
    log_likelihood: torch.Tensor
    other: torch.Tensor
    kl: torch.Tensor
    log_q: torch.Tensor
    log_p: torch.Tensor
    scale: float | torch.Tensor
    units: float | torch.Tensor
    num_data: int
    num_pixels: int
    has_other: bool = False
    mask: torch.Tensor | None = None

    @property
    def batch_size(self) -> int:
        return self.sites[0].batch_size

    @property
    def latent_dim(self) -> int:
        return sum(s.latent_dim for s in self.sites)

    def latents(self) -> torch.Tensor:
        """All latent sites' samples joined: ``(B, D)``."""
        return torch.cat([s.value for s in self.sites], dim=-1)

    def guide_moments(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Means and variances of the guide, each ``(B, D)`` (all latent sites joined)."""
        return (
            torch.cat([s.dist.mean for s in self.sites], dim=-1),
            torch.cat([s.dist.variance for s in self.sites], dim=-1),
        )

    def pairwise_log_density(self) -> torch.Tensor:
        """``L[i, j, d] = log q(z_{i,d} | x_j)``, ``(B, B, D)``, all latent sites joined."""
        return torch.cat(
            [pairwise_log_density(s.per_dim, s.value) for s in self.sites],
            dim=-1,
        )

    def kept(self) -> torch.Tensor | None:
        """Indices of the unmasked points, ``(B',)`` (``None`` when no point is masked)."""
        return None if self.mask is None else torch.nonzero(self.mask).squeeze(1)

    def kept_data_size(self) -> int:
        """N' = N·B'/B, the dataset size the B' unmasked points are taken to be drawn from."""
        kept = self.batch_size if self.mask is None else int(self.mask.sum())
        return max(kept, round(self.num_data * kept / self.batch_size))

    def scatter(self, kept_values: torch.Tensor) -> torch.Tensor:
        """A ``(B',)`` term of the unmasked points as ``(B,)``, 0 at the masked ones."""
        if self.mask is None:
            return kept_values
        full = kept_values.new_zeros(self.batch_size)
        return full.masked_scatter(self.mask, kept_values)

    def to_dataset(self, per_point: torch.Tensor) -> torch.Tensor:
        """Sum a ``(B,)`` per-point term over the batch in dataset units (× N/B, × any scale)."""
        return (self.scale * per_point).sum()


def _check_reparameterised(guide_trace: Trace) -> None:
    for name, site in guide_trace.nodes.items():
        if site["type"] != "sample" or site["is_observed"]:
            continue
        if not is_identically_zero(site["score_parts"].score_function):
            raise LatentSiteError(
                f"guide site {name!r} is not reparameterised ({type(site['fn']).__name__}); "
                "pyrodis ELBOs need reparameterised guide sites: use a distribution with rsample "
                "or train that model with pyro.infer.TraceGraph_ELBO"
            )


def elbo_parts(
    model_trace: Trace,
    guide_trace: Trace,
    latent_sites=None,
    min_batch_size: int = 2,
    data_plate: str | None = None,
) -> ELBOParts:
    """Split traces (log-probs computed, subsample sites pruned, as ``Trace_ELBO._get_trace``
    returns them) into :class:`ELBOParts`. An autoguide's auxiliary site counts with the latent
    site it feeds (together they are log q(z|x))."""
    _check_reparameterised(guide_trace)
    sites = find_latent_sites(guide_trace, model_trace, latent_sites, min_batch_size, data_plate)
    batch = sites[0].batch_size
    names = {s.name for s in sites}
    guide_latent = names | {s.aux_name for s in sites if s.aux_name}
    mask = _latent_mask(sites)
    zero = sites[0].value.new_zeros(())
    log_lik, other, kl = zero, zero, zero
    log_q, log_p = zero.expand(batch), zero.expand(batch)
    num_pixels, has_other = 0, False
    for name, site in model_trace.nodes.items():
        if site["type"] != "sample":
            continue
        if site["is_observed"]:
            log_lik = log_lik + site["log_prob_sum"]
            num_pixels += math.prod(site["fn"].event_shape)
        elif name in names:
            kl = kl - site["log_prob_sum"]
            _check_model_mask(name, site, mask, batch)
            log_p = log_p + per_point(site["unscaled_log_prob"], batch)
        else:
            other = other + site["log_prob_sum"]
            has_other = True
    for name, site in guide_trace.nodes.items():
        if site["type"] != "sample" or site["is_observed"]:
            continue
        if name in guide_latent:
            kl = kl + site["log_prob_sum"]
            log_q = log_q + per_point(site["unscaled_log_prob"], batch)
        else:
            other = other - site["log_prob_sum"]
            has_other = True
    if mask is not None:  # a masked point contributes no term (docs/contract.rst, "Masks")
        log_q, log_p = torch.where(mask, log_q, 0.0), torch.where(mask, log_p, 0.0)
    scale = sites[0].scale
    units = (torch.as_tensor(scale, dtype=log_q.dtype) * torch.ones_like(log_q)).sum()
    return ELBOParts(
        sites=sites,
        log_likelihood=log_lik,
        other=other,
        kl=kl,
        log_q=log_q,
        log_p=log_p,
        scale=scale,
        units=float(units),
        num_data=sites[0].dataset_size,
        num_pixels=num_pixels,
        has_other=has_other,
        mask=mask,
    )


def _same(a: torch.Tensor | None, b: torch.Tensor | None) -> bool:
    return (a is None and b is None) or (
        a is not None and b is not None and bool(torch.equal(a, b))
    )


def _latent_mask(sites: list[LatentSite]) -> torch.Tensor | None:
    for s in sites[1:]:
        if not _same(s.mask, sites[0].mask):
            raise LatentSiteError(
                f"latent sites {sites[0].name!r} and {s.name!r} mask different points "
                "(poutine.mask); a data point is in or out as a whole: mask all its latent "
                "sites alike"
            )
    return sites[0].mask


def _check_model_mask(name: str, site: dict, mask: torch.Tensor | None, batch: int) -> None:
    if not _same(point_mask(name, site, batch, "model"), mask):
        raise LatentSiteError(
            f"latent site {name!r} is masked differently in the model and the guide "
            "(poutine.mask); mask the same points in both, e.g. wrap both data plates' bodies "
            "in `poutine.mask(mask=keep)` with the same (B,) booleans"
        )
