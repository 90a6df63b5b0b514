"""Several latent sites side by side, and the KL per dimension of any pair of families.

:class:`JointDensity` places the per-dimension densities of S sites (each of its own torch family)
next to each other: dimensions ``0..D_1-1`` belong to the first site, the next ``D_2`` to the
second, and so on; ``log_prob`` evaluates each site's family on its own slice and concatenates, per
dimension. The posterior of M points has batch shape ``(M, D)`` with D = Σ D_s, the prior ``(D,)``.

:func:`kl_per_dim` is KL(q(z_d|x_m) || p(z_d)) averaged over the points: in closed form where
torch registers ``kl_divergence`` for the (guide family, prior family) pair, otherwise a
Monte-Carlo estimate E_q[log q − log p] with its standard error.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch.distributions import Distribution, Normal, kl_divergence

from .densities import as_float64, center, map_params, per_dim_prior, sample_seeded, spread

_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)


def _log_prob(p: Distribution, z: torch.Tensor) -> torch.Tensor:
    """``p.log_prob(z)``; for a Normal computed in place (the (chunk, R, D) block of the
    decomposition is the largest tensor the diagnostics build: one allocation instead of four)."""
    if isinstance(p, Normal) and p.loc.shape == p.scale.shape:
        out = z - p.loc
        if out.shape == torch.broadcast_shapes(z.shape, p.scale.shape):
            out.mul_(p.scale.reciprocal()).square_().mul_(-0.5)
            return out.sub_(p.scale.log() + _HALF_LOG_2PI)
    return p.log_prob(z)


class JointDensity:
    """Per-dimension densities of several sites joined along the last (latent) dimension.

    Args:
        parts: one distribution per site, batch shapes ``(..., D_s)`` agreeing but for D_s.
        names: the site names (default ``z``, ``z1``, ...).
    """

    def __init__(self, parts: Sequence[Distribution], names: Sequence[str] | None = None):
        self.parts = tuple(parts)
        self.names = (
            tuple(names) if names is not None else tuple(f"z{i}" for i in range(len(parts)))
        )
        sizes = [int(p.batch_shape[-1]) if len(p.batch_shape) else 1 for p in self.parts]
        edges = [0]
        for size in sizes:
            edges.append(edges[-1] + size)
        self.slices = tuple(slice(a, b) for a, b in zip(edges[:-1], edges[1:]))

    @property
    def batch_shape(self) -> torch.Size:
        return self.parts[0].batch_shape[:-1] + (self.slices[-1].stop,)

    def rows(self, index: torch.Tensor | slice) -> JointDensity:
        """The densities of the points ``index`` (first batch dimension) of every site."""
        return JointDensity(
            [map_params(p, lambda t, p=p: t.expand(p.batch_shape)[index]) for p in self.parts],
            self.names,
        )

    def float64(self) -> JointDensity:
        """The same densities with float64 CPU parameters."""
        return JointDensity([as_float64(p) for p in self.parts], self.names)

    def site(self, name: str) -> tuple[Distribution, slice]:
        """The distribution and the joint dimensions of one site."""
        if name not in self.names:
            raise KeyError(f"no latent site {name!r}; the sites are {list(self.names)}")
        i = self.names.index(name)
        return self.parts[i], self.slices[i]

    def log_prob(self, z: torch.Tensor) -> torch.Tensor:
        """Per-dimension log-densities at ``z`` (..., D), broadcast against the batch shape."""
        out = [_log_prob(p, z[..., s]) for p, s in zip(self.parts, self.slices)]
        return out[0] if len(out) == 1 else torch.cat(torch.broadcast_tensors(*out), -1)

    def sample(self, sample_shape: tuple = (), seed: int = 0) -> torch.Tensor:
        """A seeded draw of every site, joined: ``sample_shape + batch_shape``."""
        return torch.cat(
            [sample_seeded(p, sample_shape, seed + 7919 * i) for i, p in enumerate(self.parts)], -1
        )

    @property
    def mean(self) -> torch.Tensor:
        """Mean where defined, otherwise median, per dimension (see ``densities.center``)."""
        return torch.cat([center(p).expand(p.batch_shape) for p in self.parts], -1)

    @property
    def stddev(self) -> torch.Tensor:
        return torch.cat([spread(p) for p in self.parts], -1)

    def density(self, z: torch.Tensor) -> torch.Tensor:
        """Per-dimension densities at ``z`` (..., D); 0 outside each site's support."""
        out = []
        for p, s in zip(self.parts, self.slices):
            value, fill = torch.broadcast_tensors(z[..., s], center(p))
            inside = p.support.check(value)
            dens = p.log_prob(torch.where(inside, value, fill)).exp()
            # A transformed support may not be declared (an AutoNormal latent's support reads
            # Real); its log_prob is NaN outside it, which is a density of 0 there.
            dens = torch.nan_to_num(dens, nan=0.0)
            out.append(torch.where(inside, dens, torch.zeros((), dtype=dens.dtype)))
        return torch.cat(torch.broadcast_tensors(*out) if len(out) > 1 else out, -1)


def gaussian_posterior(loc, scale) -> Normal:
    """Gaussian per-point densities from (M, D) arrays, float64."""
    loc = torch.as_tensor(loc, dtype=torch.float64)
    scale = torch.as_tensor(scale, dtype=torch.float64)
    if loc.ndim != 2 or loc.shape != scale.shape:
        raise ValueError(
            f"loc and scale must both have shape (M, D), got {tuple(loc.shape)} and "
            f"{tuple(scale.shape)}"
        )
    return Normal(loc, scale, validate_args=False)


def gaussian_prior(prior_loc, prior_scale, dim: int) -> Normal:
    """A factorised Gaussian prior (D,) from scalars or (D,) parameters."""
    params = []
    for name, value in (("prior_loc", prior_loc), ("prior_scale", prior_scale)):
        t = torch.as_tensor(value, dtype=torch.float64)
        try:
            params.append(t.expand(dim).clone())
        except RuntimeError:
            raise ValueError(
                f"{name} must be a scalar or have shape ({dim},) to match the latent dimension, "
                f"got shape {tuple(t.shape)}"
            ) from None
    if not bool((params[1] > 0).all()):
        raise ValueError("prior_scale must be strictly positive")
    return Normal(*params, validate_args=False)


def split_prior(prior, posterior: JointDensity) -> JointDensity:
    """A prior for every site: a JointDensity as is, or one factorised prior split over sites."""
    if isinstance(prior, JointDensity):
        return prior.float64()
    whole = per_dim_prior(prior, posterior.batch_shape[-1])
    return JointDensity(
        [map_params(whole, lambda t, s=s: t[s]) for s in posterior.slices], posterior.names
    )


def as_joint(d: Distribution | JointDensity, name: str = "z") -> JointDensity:
    return d if isinstance(d, JointDensity) else JointDensity([d], [name])


def standard_normal(like: JointDensity) -> JointDensity:
    """N(0, 1) per dimension, batch ``(D,)``, with the sites of ``like``."""
    zeros = [torch.zeros(s.stop - s.start, dtype=torch.float64) for s in like.slices]
    return JointDensity([Normal(z, torch.ones_like(z)) for z in zeros], like.names)


@dataclass
class KLPerDim:
    """KL per dimension averaged over the points, with how it was computed."""

    kl: torch.Tensor  # (D,) nats
    standard_error: torch.Tensor  # (D,) nats, 0 where closed form
    method: str  # "closed form", "monte carlo" or "mixed"


def _closed_form(q: Distribution, p: Distribution) -> torch.Tensor | None:
    try:
        return kl_divergence(q, map_params(p, lambda t: t.expand(q.batch_shape)))
    except NotImplementedError:
        return None


def _monte_carlo(q, p, num_samples: int, seed: int, chunk_elements: int):
    """Mean over points of E_q[log q − log p] and its standard error (points fixed)."""
    m, d = q.batch_shape
    total = torch.zeros(d, dtype=torch.float64)
    variance = torch.zeros(d, dtype=torch.float64)
    chunk = max(1, chunk_elements // (num_samples * d))
    for start in range(0, m, chunk):
        rows = map_params(q, lambda t, s=start: t.expand(q.batch_shape)[s : s + chunk])
        z = sample_seeded(rows, (num_samples,), seed + start)
        diff = rows.log_prob(z) - p.log_prob(z)  # (S, c, D)
        total += diff.mean(0).sum(0)
        variance += diff.var(0, unbiased=True).sum(0)
    return total / m, (variance / num_samples).sqrt() / m


def kl_per_dim(
    posterior: JointDensity,
    prior: JointDensity,
    num_samples: int = 64,
    seed: int = 0,
    chunk_elements: int = 2**22,
) -> KLPerDim:
    """Average KL per dimension of every site: closed form where registered, else Monte Carlo
    with ``num_samples`` draws per point (seeded)."""
    kls, ses, methods = [], [], set()
    for i, (q, p) in enumerate(zip(posterior.parts, prior.parts)):
        closed = _closed_form(q, p)
        if closed is not None and bool(torch.isfinite(closed).all()):
            kls.append(closed.mean(0))
            ses.append(torch.zeros_like(kls[-1]))
            methods.add("closed form")
            continue
        kl, se = _monte_carlo(q, p, max(2, int(num_samples)), seed + 104729 * i, chunk_elements)
        kls.append(kl)
        ses.append(se)
        methods.add("monte carlo")
    method = methods.pop() if len(methods) == 1 else "mixed"
    return KLPerDim(torch.cat(kls), torch.cat(ses), method)
