"""Per-dimension densities of a latent site: what the aggregate-posterior terms evaluate.

A latent site's guide distribution factorises over its D latent dimensions
(``docs/contract.rst``). The ELBOs and the diagnostics need the univariate densities
q(z_d | x_b) as one distribution with batch shape ``(B, D)`` (B points of the data plate, D
dimensions) and event shape ``()``: :func:`per_dim_distribution` extracts it from

- ``Independent(base, 1)`` (what ``.to_event(1)`` builds) whose base has batch shape ``(B, D)``,
  or ``(B, 1, D)``-like shapes when the data plate is not at dim -1 (singleton dimensions of other
  plates are dropped);
- the ``Delta`` that :class:`pyro.infer.autoguide.AutoNormal` samples at the latent site, fed by
  its auxiliary ``<name>_unconstrained`` Normal: the density is that Normal pushed through the
  bijection onto the prior's support (the identity for a real-valued prior).
"""

from __future__ import annotations

import torch
from pyro.distributions import Delta
from torch.distributions import Independent, TransformedDistribution, biject_to, constraints

from pyrodis.inference.distribution_params import UnsupportedDistribution, map_params

__all__ = ["LatentSiteError", "autoguide_feeder", "per_dim_distribution"]

_FACTORISE_HINT = (
    "sample it as a product of univariate densities, e.g. `pyro.sample(name, "
    "dist.Normal(loc, scale).to_event(1))` with loc, scale of shape (B, D)"
)


class LatentSiteError(ValueError):
    """A model/guide pair does not follow the latent-site contract (the message says the fix)."""


def _flat_params(site_name: str, fn: torch.distributions.Distribution, shape: torch.Size):
    """``fn`` rebuilt with every per-point parameter reshaped to ``shape`` (dropping singleton
    dims), by the one rebuilding rule of :mod:`pyrodis.inference.distribution_params`."""
    try:
        return map_params(fn, lambda p: p.reshape(shape))
    except UnsupportedDistribution as err:
        raise LatentSiteError(
            f"latent site {site_name!r}: cannot read the {type(fn).__name__} densities with batch "
            f"shape {tuple(fn.batch_shape)} as (B, D) = {tuple(shape)} ({err}); put only the data "
            "plate in the batch shape and the latent dimension in the event (`.to_event(1)`)"
        ) from None


def _base_of(site_name: str, fn: torch.distributions.Distribution):
    if isinstance(fn, Independent) and fn.reinterpreted_batch_ndims == 1:
        return fn.base_dist
    raise LatentSiteError(
        f"latent site {site_name!r}: the guide distribution {type(fn).__name__} with event "
        f"shape {tuple(fn.event_shape)} is not factorised over the latent dimensions; "
        + _FACTORISE_HINT
    )


def per_dim_distribution(
    site_name: str, fn: torch.distributions.Distribution, batch_size: int
) -> torch.distributions.Distribution:
    """The per-dimension densities of a factorised site, batch shape ``(B, D)`` (module doc)."""
    base = _base_of(site_name, fn)
    shape = tuple(base.batch_shape)
    if len(shape) < 2:
        raise LatentSiteError(
            f"latent site {site_name!r}: expected per-dimension densities of batch shape (B, D), "
            f"got {shape}; use a (B, D) loc/scale inside the data plate only "
            "(vectorised particles, `vectorize_particles=True`, are not supported)"
        )
    if shape[:-1].count(batch_size) != 1 or any(s not in (1, batch_size) for s in shape[:-1]):
        if len(shape) == 2 and shape[0] != batch_size:
            raise LatentSiteError(
                f"latent site {site_name!r}: batch shape {shape} does not match the data plate of "
                f"size {batch_size}; put the batch dimension at the plate's dim and the latent "
                "dimension in the event (`.to_event(1)`)"
            )
        raise LatentSiteError(
            f"latent site {site_name!r}: batch shape {shape} has dimensions other than the data "
            f"plate ({batch_size}) and the latent dimension: the site sits in a second plate "
            "(items inside groups?). A data point sits in exactly one data plate; flatten: make "
            "every item a data point (one plate over all items, `pyro.plate('data', "
            "size=num_items, subsample=item_idx)` with (B_items, D) parameters), or make the "
            "group the data point and its items' latents its event (parameters reshaped to "
            "(B, items * D), `.to_event(1)`)"
        )
    if len(shape) == 2:
        return base
    return _flat_params(site_name, base, torch.Size((batch_size, shape[-1])))


def _univariate_support(support: constraints.Constraint) -> constraints.Constraint:
    while isinstance(support, constraints.independent):
        support = support.base_constraint
    return support


def autoguide_feeder(site_name: str, guide_trace) -> str | None:
    """Name of the AutoNormal auxiliary site that feeds the Delta at ``site_name``, if any."""
    fn = guide_trace.nodes[site_name]["fn"]
    if not isinstance(fn, Delta):
        return None
    aux = f"{site_name}_unconstrained"
    node = guide_trace.nodes.get(aux)
    if node is None or node["type"] != "sample" or not node["infer"].get("is_auxiliary"):
        raise LatentSiteError(
            f"latent site {site_name!r} is a point mass (Delta) in the guide, as AutoDelta, "
            "AutoDiagonalNormal, AutoMultivariateNormal and the other autoguides that sample one "
            "joint latent produce; the disentangling terms need a factorised distribution per "
            "data point: use pyro.infer.autoguide.AutoNormal(model, create_plates=...) (local "
            "latents in the data plate) or write the guide with dist.Normal(loc, scale).to_event(1)"
        )
    return aux


def autoguide_per_dim(site_name: str, aux_fn, prior_fn, batch_size: int):
    """Per-dimension densities of an AutoNormal latent: its Normal mapped onto the prior support."""
    base = per_dim_distribution(f"{site_name}_unconstrained", aux_fn, batch_size)
    if prior_fn is None:
        return base
    support = _univariate_support(prior_fn.support)
    if support is constraints.real:
        return base
    return TransformedDistribution(base, [biject_to(support)], validate_args=False)
