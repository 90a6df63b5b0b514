"""The mixture q(z) = (1/M) Σ_m q(z|x_m) of per-point factorised densities, beside its prior.

:class:`PointMixture` is the mathematical object under
:class:`~pyrodis.diagnostics.aggregate.AggregatePosterior`: the per-point densities of every
latent site (a :class:`~pyrodis.diagnostics.joint.JointDensity` of batch shape ``(M, D)``) and the
prior (``(D,)``), with what needs only them: names of the dimensions (``site[i]``), per-point
means and their variances (active units), seeded samples of q(z|x_m), q(z) and p(z), quantiles
and the exact marginal densities q(z_j) and p(z_j) on a grid.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from .densities import check_per_point
from .joint import JointDensity


class PointMixture:
    """Per-point densities ``posterior`` (batch (M, D)) and the ``prior`` (batch (D,)), checked.

    Args:
        posterior: the per-point densities of every site.
        prior: the prior densities of the same sites.
    """

    def __init__(self, posterior: JointDensity, prior: JointDensity) -> None:
        for q, p in zip(posterior.parts, prior.parts):
            check_per_point(q, p)
        self.posterior = posterior
        self.prior = prior

    @property
    def num_points(self) -> int:
        return int(self.posterior.batch_shape[0])

    @property
    def latent_dim(self) -> int:
        return int(self.posterior.batch_shape[-1])

    @property
    def site_names(self) -> tuple[str, ...]:
        return self.posterior.names

    @property
    def site_name(self) -> str:
        """The latent site's name; several sites are listed joined by "+"."""
        return "+".join(self.site_names)

    @property
    def latent_names(self) -> list[str]:
        """``site[i]`` for every joint dimension, e.g. ``z[0]`` or ``style[2]``."""
        return [
            f"{name}[{i}]"
            for name, s in zip(self.posterior.names, self.posterior.slices)
            for i in range(s.stop - s.start)
        ]

    @property
    def loc(self) -> torch.Tensor:
        """Per-point means E[z|x_m], (M, D) float64 (medians where a mean is undefined)."""
        return self.posterior.mean

    @property
    def scale(self) -> torch.Tensor:
        """Per-point standard deviations, (M, D) (NaN where undefined, e.g. Cauchy)."""
        return self.posterior.stddev

    @property
    def prior_loc(self) -> torch.Tensor:
        """The prior's mean (median where undefined) per dimension, (D,)."""
        return self.prior.mean

    @property
    def prior_scale(self) -> torch.Tensor:
        """The prior's standard deviation per dimension, (D,) (NaN where undefined)."""
        return self.prior.stddev

    @property
    def mean_codes(self) -> np.ndarray:
        """E[z|x_m] for every point, (M, D) float64: the usual representation for metrics."""
        return self.loc.numpy().copy()

    def sample_codes(self, seed: int = 0) -> np.ndarray:
        """One sample z_m ~ q(z|x_m) per point, (M, D) float64 (the "sampled" representation)."""
        return self.posterior.sample(seed=int(seed)).numpy()

    def sample(self, num_samples: int, seed: int = 0) -> torch.Tensor:
        """``num_samples`` draws from the mixture q(z) (a uniform point, then its posterior)."""
        gen = torch.Generator().manual_seed(int(seed))
        points = torch.randint(self.num_points, (int(num_samples),), generator=gen)
        return self.posterior.rows(points).sample(seed=int(seed) + 1)

    def sample_prior(self, num_samples: int, seed: int = 0) -> torch.Tensor:
        """``num_samples`` draws from the prior, (S, D)."""
        return self.prior.sample((int(num_samples),), seed=int(seed))

    def quantiles(self, q: Sequence[float], num_samples: int = 20_000, seed: int = 0) -> np.ndarray:
        """Quantiles of each marginal q(z_j) from samples, shape (len(q), D)."""
        return np.quantile(self.sample(num_samples, seed).numpy(), np.asarray(q), axis=0)

    def mean_variances(self) -> np.ndarray:
        """Cov_x(E[z_j|x]) per latent (unbiased variance of the means over the points), (D,)."""
        return self.loc.var(dim=0, unbiased=True).numpy()

    def active_units(self, threshold: float = 0.01) -> np.ndarray:
        """Boolean mask (D,) of active latents: Cov_x(E[z_j|x]) > threshold (Burda et al. 2016,
        "Importance Weighted Autoencoders", threshold 0.01); a NaN variance is never active."""
        variances = self.mean_variances()
        return np.isfinite(variances) & (variances > threshold)

    def kl_to(self, prior, num_samples: int = 64, seed: int = 0) -> dict:
        """E_m KL(q(z|x_m) || p(z)) for ANY prior over the whole latent vector (event shape
        (D,), e.g. a mixture that does not factorise), by Monte Carlo: ``num_samples`` draws per
        point of Σ_d log q(z_d|x_m) − log p(z). Returns ``kl`` and its standard error ``kl_se``
        (nats; the points are fixed)."""
        if tuple(prior.event_shape) != (self.latent_dim,):
            raise ValueError(
                f"kl_to needs a prior over the whole latent vector, event shape "
                f"({self.latent_dim},), got event shape {tuple(prior.event_shape)}"
            )
        z = self.posterior.sample((int(num_samples),), seed=int(seed))  # (S, M, D)
        log_q = self.posterior.log_prob(z).sum(-1)
        log_p = prior.log_prob(z.to(prior.mean.dtype)).to(torch.float64)
        per_point = (log_q - log_p).mean(0)  # (M,)
        within = (log_q - log_p).var(0).mean() / num_samples
        se = torch.sqrt(within / self.num_points)
        return {"kl": float(per_point.mean()), "kl_se": float(se)}

    # --------------------------------------------------------------------------------- marginals
    def marginal_density(self, grid: np.ndarray, chunk: int = 4096) -> np.ndarray:
        """q(z_j = g) = (1/M) Σ_m q(g | x_m) on a 1-D grid, shape (D, G); exact, O(M·G·D)."""
        g = torch.as_tensor(np.asarray(grid, dtype=np.float64))
        values = g[:, None, None].expand(-1, 1, self.latent_dim)
        total = torch.zeros(g.shape[0], self.latent_dim, dtype=torch.float64)
        for start in range(0, self.num_points, chunk):
            rows = self.posterior.rows(slice(start, start + chunk))
            total += rows.density(values).sum(1)
        return (total / self.num_points).T.numpy()

    def prior_density(self, grid: np.ndarray) -> np.ndarray:
        """p(z_j = g) on a 1-D grid, shape (D, G), from the prior's own density."""
        g = torch.as_tensor(np.asarray(grid, dtype=np.float64))
        return self.prior.density(g[:, None].expand(-1, self.latent_dim)).T.numpy()
