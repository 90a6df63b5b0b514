"""Export of an aggregate posterior to ArviZ ``InferenceData``.

Groups (ArviZ reads arrays as (chain, draw, ...); there is one chain, so use
``az.summary(kind="stats")``: single-chain r_hat is undefined):

* ``posterior``: ``z`` (chain=1, draw=S, latent=D), S draws from q(z) = (1/M) Σ_m q(z|x_m);
* ``prior``: ``z`` likewise from the reference prior p(z), so ``az.plot_dist_comparison`` overlays
  q(z_j) on p(z_j);
* ``encoder``: the per-datapoint posterior parameters ``loc`` and ``scale`` (point=M, latent=D),
  and ``kl`` (latent) the average KL per latent;
* ``constant_data``: ``dataset_index`` (point) and, when known, ``factors`` (point, factor) of
  factor classes with the factor names as coordinates.

The ``latent`` coordinate is z0…z{D−1}, or the matched factor's name for latents matched to a
factor (``latent_names="factor"``), or any D names given.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import torch

if TYPE_CHECKING:
    import arviz

    from .aggregate import AggregatePosterior


def _import_arviz():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # arviz' once-a-day refactor notice
        import arviz

    return arviz


def resolve_latent_names(
    aggregate: AggregatePosterior, latent_names: str | Sequence[str] | None
) -> list[str]:
    """Names for the D latents: None/"index" → z0…, "factor" → matched factor names, or a list."""
    default = [f"z{j}" for j in range(aggregate.latent_dim)]
    if latent_names is None or latent_names == "index":
        return default
    if latent_names == "factor":
        from .mutual_info import match_latents

        _, matched = match_latents(aggregate.mutual_information())
        return [aggregate.factor_names[k] if k >= 0 else default[j] for j, k in enumerate(matched)]
    names = [str(n) for n in latent_names]
    if len(names) != aggregate.latent_dim or len(set(names)) != len(names):
        raise ValueError(
            f"latent_names must be {aggregate.latent_dim} distinct names (or 'index'/'factor'), "
            f"got {names}"
        )
    return names


def to_inference_data(
    aggregate: AggregatePosterior,
    num_samples: int = 1000,
    seed: int = 0,
    latent_names: str | Sequence[str] | None = None,
) -> arviz.InferenceData:
    """Build an ``arviz.InferenceData`` view of an :class:`AggregatePosterior`.

    Args:
        aggregate: the aggregate posterior.
        num_samples: S, draws from q(z) and from the prior.
        seed: seeds both sets of draws.
        latent_names: None or "index" (z0…), "factor" (matched factor names), or D names.

    Example:
        >>> import arviz as az, torch
        >>> from pyrodis.diagnostics import AggregatePosterior
        >>> agg = AggregatePosterior(torch.randn(200, 3), torch.full((200, 3), 0.3))
        >>> idata = agg.to_inference_data(num_samples=500)
        >>> az.summary(idata, kind="stats").shape
        (3, 4)
        >>> _ = az.plot_posterior(idata, var_names=["z"])
        >>> _ = az.plot_pair(idata, var_names=["z"], coords={"latent": ["z0", "z1"]}, kind="kde")
        >>> _ = az.plot_kde(idata.posterior["z"].sel(latent="z0").values.ravel())
        >>> idata.encoder["loc"].dims
        ('point', 'latent')
    """
    az = _import_arviz()
    import xarray as xr

    names = resolve_latent_names(aggregate, latent_names)
    gen = torch.Generator().manual_seed(int(seed) + 1)
    prior = aggregate.prior_loc + aggregate.prior_scale * torch.randn(
        int(num_samples), aggregate.latent_dim, generator=gen, dtype=torch.float64
    )
    posterior = aggregate.sample(num_samples, seed=seed)
    idx = aggregate.indices if aggregate.indices is not None else np.arange(aggregate.num_points)
    constant = {"dataset_index": idx}
    dims = {"z": ["latent"], "dataset_index": ["point"]}
    coords = {"latent": names, "point": np.arange(aggregate.num_points)}
    if aggregate.factors is not None:
        constant["factors"] = aggregate.factors
        dims["factors"] = ["point", "factor"]
        coords["factor"] = list(aggregate.factor_names)
    idata = az.from_dict(
        posterior={"z": posterior.numpy()[None]},
        prior={"z": prior.numpy()[None]},
        constant_data=constant,
        coords=coords,
        dims=dims,
    )
    encoder = xr.Dataset(
        {
            "loc": (("point", "latent"), aggregate.loc.numpy()),
            "scale": (("point", "latent"), aggregate.scale.numpy()),
            "kl": (("latent",), aggregate.kl_per_dim()),
        },
        coords={"latent": names, "point": coords["point"]},
        attrs={"site": aggregate.site_name, "prior": aggregate.prior_source},
    )
    idata.add_groups({"encoder": encoder})
    return idata
