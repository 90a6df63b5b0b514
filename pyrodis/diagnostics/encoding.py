"""Running a trained guide over a dataset and reading its latent sites.

The guide follows pyrodis' latent-site contract (``docs/contract.rst``): its latent sites are
``pyro.sample`` sites inside the data plate whose distributions factorise over the latent
dimensions (any torch family, or an AutoNormal latent). :func:`encode_points` traces the guide on
batches of observations, finds the sites with
:func:`pyrodis.inference.latent_sites.find_latent_sites` and keeps each site's per-dimension
densities (``LatentSite.per_dim``), concatenated over the batches in float64.

The guide must encode the points it is asked for: a guide whose data plate draws its own
subsample (``pyro.plate("data", N, subsample_size=B)`` ignoring the indices it is given) is
detected from the trace and refused, with the fix.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
import pyro.poutine as poutine
import torch

from pyrodis.inference.latent_sites import LatentSite, find_latent_sites
from pyrodis.training.model_args import call_args_for, takes_indices

from .densities import as_float64, concat_points, per_dim_prior
from .joint import JointDensity
from .point_selection import PointSelection

GuideArgs = Callable[[torch.Tensor, torch.Tensor], tuple | dict]


@dataclass
class EncodedPoints:
    """Per-point densities read from a guide: every site's (M, D_s) densities, float64."""

    posterior: JointDensity
    plate_size: int  # N read from the data plate of the first batch
    prior: JointDensity | None  # (D,) per site when read from the model, else None


def batch_slices(num_points: int, batch_size: int) -> list[slice]:
    """Consecutive batches of ``batch_size``; a last batch of one point joins the one before it
    (the latent-site contract needs batches of at least 2)."""
    if batch_size < 2:
        raise ValueError(
            f"batch_size must be at least 2 (the contract's minimum), got {batch_size}"
        )
    starts = list(range(0, num_points, batch_size))
    if len(starts) > 1 and num_points - starts[-1] == 1:
        starts.pop()
    ends = starts[1:] + [num_points]
    return [slice(s, e) for s, e in zip(starts, ends)]


def _call_args(x: torch.Tensor, indices: np.ndarray, guide_args: GuideArgs | None):
    if guide_args is None:
        return (x,), {}
    out = guide_args(x, torch.as_tensor(indices, dtype=torch.long, device=x.device))
    if isinstance(out, dict):
        return (), out
    if isinstance(out, tuple):
        return out, {}
    raise TypeError(
        f"guide_args must return a tuple of positional arguments or a dict of keyword arguments "
        f"for the guide, got {type(out).__name__}"
    )


def _subsample_of(trace, plate: str) -> torch.Tensor | None:
    node = trace.nodes.get(plate)
    return None if node is None else node.get("value")


def _check_points(trace, sites: list[LatentSite], idx: np.ndarray, indices_given: bool) -> None:
    """Refuse a guide that encoded other points than the ``len(idx)`` it was asked for."""
    site = sites[0]
    drawn = _subsample_of(trace, site.plate)
    own = site.batch_size != len(idx) or (
        indices_given
        and drawn is not None
        and drawn.shape == (len(idx),)
        and site.dataset_size > len(idx)
        and not np.array_equal(drawn.cpu().numpy(), idx)
    )
    if own:
        raise ValueError(
            f"the guide's data plate {site.plate!r} encoded {site.batch_size} points of its own "
            f"choosing, not the {len(idx)} points asked for (a plate with subsample_size= that "
            "ignores the indices it is given); let the guide take them, e.g. "
            f"`pyro.plate({site.plate!r}, N, subsample_size=B, subsample=subsample)`, and pass "
            "subsample=indices through guide_args: guide_args=lambda x, idx: {'subsample': idx} "
            "(or (x, idx) for a guide(x, subsample))"
        )


def _check_unmasked(sites: list[LatentSite]) -> None:
    """Refuse a guide that masks points out (``poutine.mask``): a masked point is no part of the
    aggregate posterior, so the points to encode are the user's choice."""
    masked = [s.name for s in sites if s.mask is not None]
    if masked:
        raise ValueError(
            f"the guide masks some points out at latent site(s) {masked} (poutine.mask); the "
            "diagnostics encode every point they are given: pass only the points to analyse "
            "(dataset=data[keep]) and let the guide keep them all when encoding"
        )


def _trace_batch(guide, model, args, kwargs, latent_site, data_plate):
    """The guide's latent sites on one batch (checked against the model when given)."""
    with torch.no_grad(), warnings.catch_warnings():
        # A plate of the batch's size is fine here: the points define the aggregate.
        warnings.filterwarnings("ignore", message=".*equal to the batch size")
        trace = poutine.trace(guide).get_trace(*args, **kwargs)
        model_trace = None
        if model is not None:
            replayed = poutine.replay(model, trace=trace)
            model_trace = poutine.trace(replayed).get_trace(*args, **kwargs)
        sites = find_latent_sites(
            trace, model_trace, latent_sites=latent_site, data_plate=data_plate
        )
    return trace, sites


def _model_priors(sites: list[LatentSite]) -> JointDensity:
    priors = []
    for site in sites:
        per_dim = site.prior_per_dim
        if per_dim is None:
            raise ValueError(
                f"the model's prior at latent site {site.name!r} ({type(site.prior).__name__}) "
                "is not factorised over the latent dimensions; pass a factorised reference "
                "prior=, e.g. dist.Normal(0., 1.), for the per-latent diagnostics, and get the "
                "KL to the model's prior itself by Monte Carlo with agg.kl_to(prior)"
            )
        priors.append(per_dim_prior(per_dim, site.latent_dim, f"model's prior at {site.name!r}"))
    return JointDensity(priors, [s.name for s in sites])


def encode_points(
    guide: Callable,
    selection: PointSelection,
    *,
    batch_size: int = 256,
    guide_args: GuideArgs | None = None,
    latent_site: str | list[str] | None = None,
    model: Callable | None = None,
    device: torch.device | str | None = None,
    data_plate: str | None = None,
    read_prior: bool = True,
) -> EncodedPoints:
    """Trace ``guide`` on every selected point, in batches, and read its latent sites.

    Observations are moved to ``device`` (when given) before the guide sees them; the densities
    come back with float64 CPU parameters. ``latent_site``: one site name, a list of names, or
    None for every latent site of the data plate. With a ``model``, its prior is read too unless
    ``read_prior`` is False (the model then only checks the sites and names the data plate)."""
    parts, names, plate_size, prior = [], None, None, None
    if guide_args is None and takes_indices(guide) and (model is None or takes_indices(model)):
        # guide(x, indices) and model(x, indices), as the trainer calls them
        guide_args = call_args_for(guide)
    for part in batch_slices(len(selection.indices), batch_size):
        idx = selection.indices[part]
        x = selection.observations(part)
        x = x if device is None else x.to(device)
        args, kwargs = _call_args(x, idx, guide_args)
        trace, sites = _trace_batch(guide, model, args, kwargs, latent_site, data_plate)
        _check_points(trace, sites, idx, guide_args is not None)
        _check_unmasked(sites)
        if names is None:
            names, plate_size = [s.name for s in sites], int(sites[0].dataset_size)
            prior = _model_priors(sites) if model is not None and read_prior else None
        parts.append([as_float64(s.per_dim) for s in sites])
    posterior = JointDensity([concat_points(list(p)) for p in zip(*parts)], names)
    return EncodedPoints(posterior, plate_size, prior)


def with_factors(selection: PointSelection, factors, names) -> PointSelection:
    """The selection with the factor labels of its points taken from ``factors`` (N, K)."""
    labels = np.asarray(factors)
    if labels.ndim != 2 or labels.shape[0] != selection.source_size:
        raise ValueError(
            f"factors must have shape (N, K) with N = {selection.source_size} (one row per point "
            f"of the dataset), got {labels.shape}"
        )
    if selection.factors is not None:
        raise ValueError("the dataset carries its own factor labels; do not pass factors=")
    names = tuple(names) if names is not None else None
    return replace(selection, factors=labels[selection.indices], factor_names=names)
