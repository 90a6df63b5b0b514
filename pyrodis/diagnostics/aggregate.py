"""The aggregate posterior q(z) = (1/M) Σ_m q(z|x_m) of a trained Gaussian guide.

Built from any guide that follows the latent-site contract (``docs/contract.rst``) with
:meth:`AggregatePosterior.from_guide`, or directly from per-point posterior parameters.  It holds
the per-point Gaussian parameters (M, D) of the M points used and answers the questions users ask of
a trained model: how much KL each latent carries, which latents are active, how the KL splits into
index-code MI, total correlation and dimension-wise KL, what the marginals q(z_j) look like against
the prior, and which latent follows which ground-truth factor.

The reference prior is N(0, I) (the contract's prior) unless ``prior=`` is given or ``model=`` is
passed to :meth:`~AggregatePosterior.from_guide`, which reads the model's Gaussian prior at the
latent site (it must be the same for every point).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch.distributions import Independent

from .decomposition import DEFAULT_REFERENCE_SIZE, kl_decomposition
from .encoding import GuideArgs, encode_points
from .gaussian import as_prior_vector, gaussian_kl, gaussian_log_density
from .mutual_info import discretised_mutual_information
from .sources import select_points

if TYPE_CHECKING:
    import arviz


class AggregatePosterior:
    """Per-point Gaussian posteriors q(z|x_m) of M points and their mixture q(z).

    Args:
        loc, scale: posterior parameters of the M points, shape (M, D) (converted to float64).
        prior_loc, prior_scale: the factorised Gaussian prior, scalars or (D,); N(0, I) by default.
        indices: (M,) indices of the points in their dataset, if known.
        factors: (M, K) ground-truth factor classes, if known; ``factor_names`` their K names.
        dataset_size: N, the size of the dataset the points were drawn from.
        site_name: the guide's latent site.

    Example:
        >>> import torch
        >>> agg = AggregatePosterior(torch.randn(500, 4), torch.full((500, 4), 0.5))
        >>> agg.kl_per_dim().shape, int(agg.active_units().sum())
        ((4,), 4)
        >>> terms = agg.decomposition()
        >>> abs(terms["mi"] + terms["tc"] + terms["dwkl"] - terms["kl"]) < 1e-9
        True
    """

    def __init__(
        self,
        loc: torch.Tensor | np.ndarray,
        scale: torch.Tensor | np.ndarray,
        *,
        prior_loc: torch.Tensor | float = 0.0,
        prior_scale: torch.Tensor | float = 1.0,
        indices: np.ndarray | None = None,
        factors: np.ndarray | None = None,
        factor_names: Sequence[str] | None = None,
        dataset_size: int | None = None,
        site_name: str = "z",
        prior_source: str | None = None,
    ) -> None:
        self.loc = torch.as_tensor(loc, dtype=torch.float64)
        self.scale = torch.as_tensor(scale, dtype=torch.float64)
        if self.loc.ndim != 2 or self.loc.shape != self.scale.shape:
            raise ValueError(
                f"loc and scale must both have shape (M, D), got {tuple(self.loc.shape)} and "
                f"{tuple(self.scale.shape)}"
            )
        if self.loc.shape[0] < 2:
            raise ValueError("an aggregate posterior needs at least 2 points")
        if not bool(torch.isfinite(self.loc).all()) or not bool((self.scale > 0).all()):
            raise ValueError("loc must be finite and scale strictly positive; check the guide")
        dim = self.latent_dim
        self.prior_loc = as_prior_vector(prior_loc, dim, "prior_loc")
        self.prior_scale = as_prior_vector(prior_scale, dim, "prior_scale")
        if not bool((self.prior_scale > 0).all()):
            raise ValueError("prior_scale must be strictly positive")
        self.prior_source = prior_source or (
            "N(0, I)"
            if bool((self.prior_loc == 0).all() & (self.prior_scale == 1).all())
            else "given"
        )
        self.indices = None if indices is None else np.asarray(indices, dtype=np.int64)
        self.factors = None if factors is None else np.asarray(factors, dtype=np.int64)
        if self.factors is not None and self.factors.shape[0] != self.num_points:
            raise ValueError(
                f"factors must have one row per point ({self.num_points}), "
                f"got {self.factors.shape[0]}"
            )
        if self.factors is not None and factor_names is None:
            factor_names = [f"factor{k}" for k in range(self.factors.shape[1])]
        self.factor_names = None if factor_names is None else tuple(factor_names)
        self.dataset_size = dataset_size
        self.site_name = site_name

    # ---------------------------------------------------------------------------- construction
    @classmethod
    def from_guide(
        cls,
        guide: Callable,
        dataset,
        num_points: int | None = None,
        batch_size: int = 256,
        guide_args: GuideArgs | None = None,
        seed: int = 0,
        latent_site: str | None = None,
        *,
        model: Callable | None = None,
        prior: torch.distributions.Distribution | None = None,
        device: torch.device | str | None = None,
    ) -> AggregatePosterior:
        """Encode a dataset (all of it, or ``num_points`` distinct points drawn with ``seed``).

        Args:
            guide: a trained guide following the latent-site contract; called on each batch as
                ``guide(x)``, or as ``guide(*guide_args(x, indices))`` (or ``**`` when
                ``guide_args`` returns a dict), under ``torch.no_grad``.  Put its networks in eval
                mode first if they behave differently in training.
            dataset: a GroundTruthDataset (factor labels are kept), a tensor of observations
                (N, ...) or a map-style torch Dataset of observations (or (observation, ...) tuples).
            num_points: how many distinct points to use (uniform without replacement), None = all.
            batch_size: points per guide call (≥ 2).
            guide_args: maps (x, dataset indices) to the guide's arguments.
            seed: seeds the choice of points.
            latent_site: the guide's latent site name when it has several.
            model: if given, the reference prior is read from the model's Gaussian prior at the
                latent site (replaying the guide); otherwise ``prior`` or N(0, I).
            prior: a (factorised) torch Normal whose loc/scale broadcast to (D,).
            device: move each batch of observations there before calling the guide (e.g. the
                device of its networks); the parameters are kept as float64 on the CPU.
        """
        selection = select_points(dataset, num_points, seed)
        enc = encode_points(
            guide,
            dataset,
            selection,
            batch_size=batch_size,
            guide_args=guide_args,
            latent_site=latent_site,
            model=model,
            device=device,
        )
        prior_loc, prior_scale, source = 0.0, 1.0, None
        if enc.prior_loc is not None:
            prior_loc, prior_scale, source = enc.prior_loc, enc.prior_scale, "model"
        elif prior is not None:
            base = prior.base_dist if isinstance(prior, Independent) else prior
            prior_loc, prior_scale, source = base.loc, base.scale, "given"
        return cls(
            enc.loc,
            enc.scale,
            prior_loc=prior_loc,
            prior_scale=prior_scale,
            indices=selection.indices,
            factors=selection.factors,
            factor_names=selection.factor_names,
            dataset_size=selection.source_size,
            site_name=enc.site_name,
            prior_source=source,
        )

    # ------------------------------------------------------------------------------- shapes/codes
    @property
    def num_points(self) -> int:
        return int(self.loc.shape[0])

    @property
    def latent_dim(self) -> int:
        return int(self.loc.shape[1])

    @property
    def latent_names(self) -> list[str]:
        return [f"z{j}" for j in range(self.latent_dim)]

    @property
    def mean_codes(self) -> np.ndarray:
        """E[z|x_m] for every point, (M, D) float64: the usual representation for metrics."""
        return self.loc.numpy().copy()

    def sample_codes(self, seed: int = 0) -> np.ndarray:
        """One sample z_m ~ q(z|x_m) per point, (M, D) float64 (the "sampled" representation)."""
        gen = torch.Generator().manual_seed(int(seed))
        eps = torch.randn(self.loc.shape, generator=gen, dtype=torch.float64)
        return (self.loc + self.scale * eps).numpy()

    def sample(self, num_samples: int, seed: int = 0) -> torch.Tensor:
        """``num_samples`` draws from the mixture q(z) (a uniform point, then its posterior)."""
        gen = torch.Generator().manual_seed(int(seed))
        points = torch.randint(self.num_points, (int(num_samples),), generator=gen)
        eps = torch.randn(int(num_samples), self.latent_dim, generator=gen, dtype=torch.float64)
        return self.loc[points] + self.scale[points] * eps

    def quantiles(self, q: Sequence[float], num_samples: int = 20_000, seed: int = 0) -> np.ndarray:
        """Quantiles of each marginal q(z_j) from samples, shape (len(q), D)."""
        return np.quantile(self.sample(num_samples, seed).numpy(), np.asarray(q), axis=0)

    # ----------------------------------------------------------------------------- KL and units
    def kl_per_dim(self) -> np.ndarray:
        """Average analytic KL(q(z_j|x) || p(z_j)) over the points, (D,) nats."""
        kl = gaussian_kl(self.loc, self.scale, self.prior_loc, self.prior_scale)
        return kl.mean(0).numpy()

    def kl_order(self) -> np.ndarray:
        """Latent indices sorted by decreasing KL."""
        return np.argsort(-self.kl_per_dim(), kind="stable")

    def mean_variances(self) -> np.ndarray:
        """Cov_x(E[z_j|x]) per latent (unbiased variance of the means over the points), (D,)."""
        return self.loc.var(dim=0, unbiased=True).numpy()

    def active_units(self, threshold: float = 0.01) -> np.ndarray:
        """Boolean mask (D,) of active latents: Cov_x(E[z_j|x]) > threshold (Burda et al. 2016,
        "Importance Weighted Autoencoders", threshold 0.01)."""
        return self.mean_variances() > threshold

    # ---------------------------------------------------------------------------- decomposition
    def decomposition(
        self,
        samples_per_point: int = 1,
        reference_size: int = DEFAULT_REFERENCE_SIZE,
        seed: int = 0,
    ) -> dict:
        """MI / TC / dimension-wise KL of the average KL; see
        :func:`pyrodis.diagnostics.decomposition.kl_decomposition` for the estimator."""
        return kl_decomposition(
            self.loc,
            self.scale,
            self.prior_loc,
            self.prior_scale,
            samples_per_point=samples_per_point,
            reference_size=reference_size,
            seed=seed,
        )

    # --------------------------------------------------------------------------------- marginals
    def marginal_density(self, grid: np.ndarray, chunk: int = 4096) -> np.ndarray:
        """q(z_j = g) = (1/M) Σ_m N(g; μ_mj, σ_mj²) on a 1-D grid, shape (D, G); exact, O(M·G·D)."""
        g = torch.as_tensor(np.asarray(grid, dtype=np.float64))[None, :, None]
        total = torch.zeros(g.shape[1], self.latent_dim, dtype=torch.float64)
        for start in range(0, self.num_points, chunk):
            loc = self.loc[start : start + chunk, None, :]
            scale = self.scale[start : start + chunk, None, :]
            total += gaussian_log_density(g, loc, scale).exp().sum(0)
        return (total / self.num_points).T.numpy()

    def prior_density(self, grid: np.ndarray) -> np.ndarray:
        """p(z_j = g) on a 1-D grid, shape (D, G)."""
        g = torch.as_tensor(np.asarray(grid, dtype=np.float64))[:, None]
        return gaussian_log_density(g, self.prior_loc, self.prior_scale).exp().T.numpy()

    # -------------------------------------------------------------------------------- factors
    def mutual_information(self, num_bins: int = 20, codes: str = "mean") -> np.ndarray:
        """Discretised MI (nats) between each latent and each factor, (D, K); needs factors."""
        if self.factors is None:
            raise ValueError(
                "this aggregate posterior has no factor labels; build it from a GroundTruthDataset"
            )
        z = self.mean_codes if codes == "mean" else self.sample_codes()
        return discretised_mutual_information(z, self.factors, num_bins=num_bins)

    def to_inference_data(
        self,
        num_samples: int = 1000,
        seed: int = 0,
        latent_names: str | Sequence[str] | None = None,
    ) -> arviz.InferenceData:
        """Export q(z) to ArviZ; see :func:`pyrodis.diagnostics.arviz_export.to_inference_data`."""
        from .arviz_export import to_inference_data

        return to_inference_data(
            self, num_samples=num_samples, seed=seed, latent_names=latent_names
        )

    def __repr__(self) -> str:
        labels = "" if self.factor_names is None else f", factors={list(self.factor_names)}"
        return (
            f"AggregatePosterior(site={self.site_name!r}, points={self.num_points}, "
            f"latent_dim={self.latent_dim}, prior={self.prior_source}{labels})"
        )
