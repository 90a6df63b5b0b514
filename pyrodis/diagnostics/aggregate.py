"""The aggregate posterior q(z) = (1/M) Σ_m q(z|x_m) of a trained guide, for any factorised
guide and prior.

Built from any guide that follows the latent-site contract (``docs/contract.rst``) with
:meth:`AggregatePosterior.from_guide`, from per-point densities of any torch family
(``posterior=``), or from Gaussian parameters ``AggregatePosterior(loc, scale)``. It answers the
questions users ask of a trained model: how much KL each latent carries, which latents are active,
how the KL splits into index-code MI, total correlation and dimension-wise KL, what the marginals
q(z_j) look like against the prior, and which latent follows which ground-truth factor
(``docs/diagnostics.rst``).

**What is stored.** The per-point densities of every site as ONE distribution of its own family
with parameters stacked over the points, batch shape ``(M, D_s)``, float64
(:mod:`pyrodis.diagnostics.densities`); sites sit side by side in a
:class:`~pyrodis.diagnostics.joint.JointDensity` (dimensions ``site[i]``). Stacked parameters
(not one distribution per batch) give one vectorised ``log_prob``/``sample`` over all points.

**The prior.** Read from the model when ``model=`` is given (any factorised prior: Laplace,
Student-t, ...), else ``prior=`` (any factorised torch distribution), else N(0, I), which is then
*assumed* and said so in :attr:`prior_source`.

**KL per dimension** is closed form where torch registers ``kl_divergence`` for the (guide, prior)
families, otherwise a seeded Monte-Carlo estimate with standard errors; :attr:`kl_method` says
which.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch
from torch.distributions import Distribution

from .decomposition import DEFAULT_SUBSET_SIZE, kl_decomposition
from .encoding import GuideArgs, encode_points, with_factors
from .factor_mi import discretised_mutual_information
from .joint import (
    JointDensity,
    KLPerDim,
    as_joint,
    gaussian_posterior,
    gaussian_prior,
    kl_per_dim,
    split_prior,
    standard_normal,
)
from .mixture import PointMixture
from .point_selection import select_points

ASSUMED_PRIOR = "N(0, I) (assumed: neither model= nor prior= was given)"


class AggregatePosterior(PointMixture):
    """Per-point posteriors q(z|x_m) of M points (any factorised family) and their mixture q(z).

    Args:
        loc, scale: Gaussian posterior parameters of the M points, shape (M, D) (a shorthand for
            ``posterior=Normal(loc, scale)``).
        posterior: the per-point univariate densities, batch shape (M, D), of any torch family
            (e.g. ``dist.Laplace(loc, scale)``), or a JointDensity of several sites.
        prior: any factorised prior: a scalar distribution (``dist.Laplace(0., 1.)``), batch
            (D,), ``.to_event(1)`` of one, or a JointDensity per site; default N(0, I).
        prior_loc, prior_scale: a Gaussian prior by its parameters (scalars or (D,)).
        indices: (M,) indices of the points in their dataset, if known.
        factors: (M, K) ground-truth factor classes, if known; ``factor_names`` their K names.
        dataset_size: N, the size of the dataset the points were drawn from.
        site_name: the latent site's name (one site; several come with a JointDensity).
        prior_source: how the prior was chosen ("model", "given", or the assumed N(0, I)).
        kl_samples: draws per point of the Monte-Carlo KL (only without a closed form).

    Example:
        >>> import torch
        >>> agg = AggregatePosterior(torch.randn(500, 4), torch.full((500, 4), 0.5))
        >>> agg.kl_per_dim().shape, int(agg.active_units().sum()), agg.kl_method
        ((4,), 4, 'closed form')
        >>> terms = agg.decomposition()
        >>> abs(terms["mi"] + terms["tc"] + terms["dwkl"] - terms["kl"]) < 1e-9
        True
        >>> from torch.distributions import Laplace, StudentT
        >>> agg = AggregatePosterior(posterior=Laplace(torch.randn(200, 2), 0.5), prior=StudentT(3.0))
        >>> agg.kl_method, agg.kl_standard_errors().shape
        ('monte carlo', (2,))
    """

    def __init__(
        self,
        loc: torch.Tensor | np.ndarray | None = None,
        scale: torch.Tensor | np.ndarray | None = None,
        *,
        posterior: Distribution | JointDensity | None = None,
        prior: Distribution | JointDensity | None = None,
        prior_loc: torch.Tensor | float | None = None,
        prior_scale: torch.Tensor | float | None = None,
        indices: np.ndarray | None = None,
        factors: np.ndarray | None = None,
        factor_names: Sequence[str] | None = None,
        dataset_size: int | None = None,
        site_name: str = "z",
        prior_source: str | None = None,
        kl_samples: int = 64,
    ) -> None:
        if (posterior is None) == (loc is None or scale is None):
            raise ValueError("pass either loc and scale (Gaussian) or posterior=, not both")
        if posterior is None:
            posterior = gaussian_posterior(loc, scale)
        posterior = as_joint(posterior, site_name).float64()
        if prior_loc is not None or prior_scale is not None:
            prior = gaussian_prior(
                0.0 if prior_loc is None else prior_loc,
                1.0 if prior_scale is None else prior_scale,
                posterior.batch_shape[-1],
            )
        given = prior is not None
        super().__init__(
            posterior, split_prior(prior, posterior) if given else standard_normal(posterior)
        )
        self.prior_source = prior_source or ("given" if given else ASSUMED_PRIOR)
        self.kl_samples = int(kl_samples)
        self._kl: KLPerDim | None = None
        self._set_points(indices, factors, factor_names, dataset_size)

    def _set_points(self, indices, factors, factor_names, dataset_size) -> None:
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
        latent_site: str | Sequence[str] | None = None,
        *,
        model: Callable | None = None,
        prior: Distribution | None = None,
        device: torch.device | str | None = None,
        data_plate: str | None = None,
        kl_samples: int = 64,
        factors: np.ndarray | None = None,
        factor_names: Sequence[str] | None = None,
    ) -> AggregatePosterior:
        """Encode a dataset (all of it, or ``num_points`` distinct points drawn with ``seed``).

        Args:
            guide: a trained guide following the latent-site contract (any factorised family,
                several sites, AutoNormal), in eval mode; called under ``torch.no_grad`` as
                ``guide(x)`` or ``guide(*guide_args(x, indices))`` (``**`` for a dict). A data
                plate that draws its own subsample is refused (pass ``subsample=`` the indices).
            dataset: a GroundTruthDataset (factor labels are kept), a tensor of observations
                (N, ...; a float64 tensor stays float64) or a map-style torch Dataset.
            num_points: how many distinct points to use (uniform without replacement), None = all.
            batch_size: points per guide call (≥ 2).
            guide_args: maps (x, dataset indices) to the guide's arguments; by default a guide
                (and model) taking two positional arguments gets ``(x, indices)``, else ``(x,)``.
            seed: seeds the choice of points.
            latent_site: one site name, a list of names, or None for every latent site of the
                data plate (several sites are joined, dimensions named ``site[i]``).
            model: if given, the reference prior is the model's prior at each site (replaying the
                guide), whatever its family, unless ``prior`` is given; else N(0, I) (assumed).
            prior: any factorised torch distribution (``dist.Laplace(0., 1.)``,
                ``dist.Normal(zeros(D), ones(D)).to_event(1)``); it overrides the model's.
            device: where each batch goes before the guide (parameters come back to the CPU).
            data_plate: the name of the data plate, when it cannot be told from the model.
            kl_samples: draws per point of the Monte-Carlo KL (only without a closed form).
            factors, factor_names: (N, K) ground-truth labels of the whole dataset (any
                integers) and their names, for a dataset that does not carry them.
        """
        selection = select_points(dataset, num_points, seed)
        if factors is not None:
            selection = with_factors(selection, factors, factor_names)
        enc = encode_points(
            guide,
            selection,
            batch_size=batch_size,
            guide_args=guide_args,
            latent_site=latent_site,
            model=model,
            device=device,
            data_plate=data_plate,
            read_prior=prior is None,
        )
        return cls._from_encoded(enc, selection, prior, kl_samples)

    @classmethod
    def _from_encoded(cls, enc, selection, prior, kl_samples: int) -> AggregatePosterior:
        source = "model" if enc.prior is not None else ("given" if prior is not None else None)
        return cls(
            posterior=enc.posterior,
            prior=enc.prior if enc.prior is not None else prior,
            indices=selection.indices,
            factors=selection.factors,
            factor_names=selection.factor_names,
            dataset_size=selection.source_size,
            prior_source=source,
            kl_samples=kl_samples,
        )

    def site(self, name: str) -> AggregatePosterior:
        """The aggregate posterior of one latent site alone (same points, factors and prior)."""
        q, _ = self.posterior.site(name)
        p, _ = self.prior.site(name)
        return AggregatePosterior(
            posterior=JointDensity([q], [name]),
            prior=JointDensity([p], [name]),
            indices=self.indices,
            factors=self.factors,
            factor_names=self.factor_names,
            dataset_size=self.dataset_size,
            prior_source=self.prior_source,
            kl_samples=self.kl_samples,
        )

    # ----------------------------------------------------------------------------- KL and units
    def _kl_result(self) -> KLPerDim:
        if self._kl is None:
            self._kl = kl_per_dim(self.posterior, self.prior, num_samples=self.kl_samples)
        return self._kl

    def kl_per_dim(self) -> np.ndarray:
        """Average KL(q(z_j|x) || p(z_j)) over the points, (D,) nats (see :attr:`kl_method`)."""
        return self._kl_result().kl.numpy().copy()

    def kl_standard_errors(self) -> np.ndarray:
        """Standard errors of :meth:`kl_per_dim`, (D,) (0 where the KL is in closed form)."""
        return self._kl_result().standard_error.numpy().copy()

    @property
    def kl_method(self) -> str:
        """ "closed form", "monte carlo" (no registered KL for the families) or "mixed"."""
        return self._kl_result().method

    def kl_order(self) -> np.ndarray:
        """Latent indices sorted by decreasing KL."""
        return np.argsort(-self.kl_per_dim(), kind="stable")

    # ---------------------------------------------------------------------------- decomposition
    def decomposition(
        self,
        samples_per_point: int = 1,
        reference_size: int = DEFAULT_SUBSET_SIZE,
        seed: int = 0,
    ) -> dict:
        """MI / TC / dimension-wise KL of the average KL, from the guide's and the prior's own
        densities; see :func:`pyrodis.diagnostics.decomposition.kl_decomposition`."""
        return kl_decomposition(
            self.posterior,
            self.prior,
            samples_per_point=samples_per_point,
            reference_size=reference_size,
            seed=seed,
            kl_samples=self.kl_samples,
        )

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
    ):
        """Export q(z) to ArviZ; see :func:`pyrodis.diagnostics.arviz_export.to_inference_data`."""
        from .arviz_export import to_inference_data

        return to_inference_data(
            self, num_samples=num_samples, seed=seed, latent_names=latent_names
        )

    def __repr__(self) -> str:
        labels = "" if self.factor_names is None else f", factors={list(self.factor_names)}"
        return (
            f"AggregatePosterior(sites={list(self.site_names)}, points={self.num_points}, "
            f"latent_dim={self.latent_dim}, prior={self.prior_source}{labels})"
        )
