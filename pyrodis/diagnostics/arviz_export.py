"""Export of an aggregate posterior to ArviZ ``InferenceData``.

Groups (ArviZ reads arrays as (chain, draw, ...); there is one chain, so use
``az.summary(kind="stats")``: single-chain r_hat is undefined):

* ``posterior``: one variable per latent site, named after the site (``z``, ``style``, ...),
  (chain=1, draw=S, latent), S draws from q(z) = (1/M) Σ_m q(z|x_m), all sites drawn jointly;
* ``prior``: the same variables drawn from the reference prior p(z), so
  ``az.plot_dist_comparison`` overlays q(z_j) on p(z_j);
* ``encoder``: the per-datapoint parameters of the guide's own family (``loc`` and ``scale`` for a
  Normal, ``df``, ``loc``, ``scale`` for a Student-t, ...; point=M, latent), and ``kl`` (latent)
  the average KL per latent;
* ``constant_data``: ``dataset_index`` (point) and, when known, ``factors`` (point, factor) of
  factor classes with the factor names as coordinates.

The latent coordinate of a site is 0…D_s−1, so ArviZ names a dimension ``site[i]`` (``z[0]``,
``style[2]``), or the matched factor's name for latents matched to a factor
(``latent_names="factor"``), or any D names given. With one site the dimension is called
``latent``; with several, ``latent_<site>`` and the encoder variables ``<site>_<parameter>``.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np

from .densities import leaf_params


def _import_arviz():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # arviz' once-a-day refactor notice
        import arviz

    return arviz


def resolve_latent_names(aggregate, latent_names: str | Sequence[str] | None) -> list:
    """Coordinates of the D joint latents: None/"index" → each site's 0…D_s−1, "factor" → the
    matched factor's name where there is one, or D distinct names."""
    default = [j - s.start for s in aggregate.posterior.slices for j in range(s.start, s.stop)]
    if latent_names is None or latent_names == "index":
        return default
    if latent_names == "factor":
        from .factor_mi import match_latents

        _, matched = match_latents(aggregate.mutual_information())
        return [
            aggregate.factor_names[k] if k >= 0 else str(default[j]) for j, k in enumerate(matched)
        ]
    names = [str(n) for n in latent_names]
    if len(names) != aggregate.latent_dim or len(set(names)) != len(names):
        raise ValueError(
            f"latent_names must be {aggregate.latent_dim} distinct names (or 'index'/'factor'), "
            f"got {names}"
        )
    return names


def _site_arrays(aggregate, names: list, num_samples: int, seed: int):
    """Per site: (variable, dim name, coordinates, posterior draws, prior draws, encoder vars)."""
    posterior = aggregate.sample(num_samples, seed=seed).numpy()
    prior = aggregate.sample_prior(num_samples, seed=seed + 1).numpy()
    kl = aggregate.kl_per_dim()
    several = len(aggregate.site_names) > 1
    out = []
    for site, part, s in zip(
        aggregate.site_names, aggregate.posterior.parts, aggregate.posterior.slices
    ):
        dim = f"latent_{site}" if several else "latent"
        prefix = f"{site}_" if several else ""
        encoder = {
            f"{prefix}{k}": (("point", dim), v.expand(part.batch_shape).numpy())
            for k, v in leaf_params(part).items()
        }
        encoder[f"{prefix}kl"] = ((dim,), kl[s])
        out.append((site, dim, names[s], posterior[:, s], prior[:, s], encoder))
    return out


def to_inference_data(
    aggregate,
    num_samples: int = 1000,
    seed: int = 0,
    latent_names: str | Sequence[str] | None = None,
):
    """Build an ``arviz.InferenceData`` view of an :class:`AggregatePosterior`.

    Args:
        aggregate: the :class:`~pyrodis.diagnostics.aggregate.AggregatePosterior`.
        num_samples: S, draws from q(z) and from the prior.
        seed: seeds both sets of draws.
        latent_names: None or "index" (0…D_s−1 per site), "factor" (matched factor names), or
            D names.

    Example:
        >>> import arviz as az, torch
        >>> from pyrodis.diagnostics import AggregatePosterior
        >>> agg = AggregatePosterior(torch.randn(200, 3), torch.full((200, 3), 0.3))
        >>> idata = agg.to_inference_data(num_samples=500)
        >>> az.summary(idata, kind="stats").shape
        (3, 4)
        >>> list(az.summary(idata, kind="stats").index)
        ['z[0]', 'z[1]', 'z[2]']
        >>> _ = az.plot_posterior(idata, var_names=["z"])
        >>> _ = az.plot_pair(idata, var_names=["z"], coords={"latent": [0, 1]}, kind="kde")
        >>> _ = az.plot_kde(idata.posterior["z"].sel(latent=0).values.ravel())
        >>> idata.encoder["loc"].dims
        ('point', 'latent')
    """
    az = _import_arviz()
    names = resolve_latent_names(aggregate, latent_names)
    sites = _site_arrays(aggregate, names, int(num_samples), int(seed))
    points = np.arange(aggregate.num_points)
    idx = aggregate.indices if aggregate.indices is not None else points
    constant = {"dataset_index": idx}
    dims = {"dataset_index": ["point"]}
    coords = {"point": points}
    for site, dim, site_coords, _, _, _ in sites:
        dims[site] = [dim]
        coords[dim] = list(site_coords)
    if aggregate.factors is not None:
        constant["factors"] = aggregate.factors
        dims["factors"] = ["point", "factor"]
        coords["factor"] = list(aggregate.factor_names)
    idata = az.from_dict(
        posterior={site: post[None] for site, _, _, post, _, _ in sites},
        prior={site: pri[None] for site, _, _, _, pri, _ in sites},
        constant_data=constant,
        coords=coords,
        dims=dims,
    )
    idata.add_groups({"encoder": _encoder(aggregate, sites, coords)})
    return idata


def _encoder(aggregate, sites, coords):
    """The ``encoder`` group: per-point parameters and KL of every site."""
    import xarray as xr

    return xr.Dataset(
        {k: v for *_, enc in sites for k, v in enc.items()},
        coords={k: v for k, v in coords.items() if k != "factor"},
        attrs={
            "sites": list(aggregate.site_names),
            "prior": aggregate.prior_source,
            "kl_method": aggregate.kl_method,
        },
    )
