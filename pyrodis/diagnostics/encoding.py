"""Running a trained guide over a dataset and reading its Gaussian latent site.

The guide follows pyrodis' latent-site contract (``docs/contract.rst``): its latent site is a
``pyro.sample`` site inside the data plate whose distribution is a factorised Gaussian ``Normal(loc,
scale).to_event(1)``.  :func:`encode_points` traces the guide on batches of observations and reads
``loc`` and ``scale`` of that site through :func:`pyrodis.inference.latent_sites.find_latent_sites`.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyro.poutine as poutine
import torch
from torch.distributions import Independent, Normal

from pyrodis.inference.latent_sites import find_latent_sites

from .sources import PointSelection, load_observations

GuideArgs = Callable[[torch.Tensor, torch.Tensor], tuple | dict]


@dataclass
class EncodedPoints:
    """Per-point Gaussian posterior parameters read from a guide (float64, (M, D))."""

    loc: torch.Tensor
    scale: torch.Tensor
    site_name: str
    plate_size: int  # N read from the data plate of the first batch
    prior_loc: torch.Tensor | None  # (D,) when read from the model, else None
    prior_scale: torch.Tensor | None


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


def gaussian_parameters(
    dist: torch.distributions.Distribution, site_name: str
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(loc, scale)`` of a factorised Normal (possibly wrapped in Independent), shape (B, D)."""
    base = dist
    while isinstance(base, Independent):
        base = base.base_dist
    if not isinstance(base, Normal):
        raise TypeError(
            f"latent site {site_name!r} has distribution {type(dist).__name__} over "
            f"{type(base).__name__}; the diagnostics need a factorised Gaussian guide, e.g. "
            "dist.Normal(loc, scale).to_event(1)"
        )
    shape = dist.batch_shape + dist.event_shape
    if len(shape) != 2:
        raise ValueError(
            f"latent site {site_name!r} must have batch shape (B,) and event shape (D,), got "
            f"batch {tuple(dist.batch_shape)} and event {tuple(dist.event_shape)}; "
            "use .to_event(1) on a (B, D) Normal"
        )
    return base.loc.expand(shape), base.scale.expand(shape)


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


def _pick_site(sites, latent_site: str | None):
    if latent_site is not None:
        match = [s for s in sites if s.name == latent_site]
        if not match:
            names = [s.name for s in sites]
            raise ValueError(f"no latent site named {latent_site!r}; the guide has {names}")
        return match[0]
    if len(sites) > 1:
        names = [s.name for s in sites]
        raise ValueError(f"the guide has several latent sites {names}; pass latent_site=<name>")
    return sites[0]


def _model_prior(model, guide_trace, site_name: str, args, kwargs):
    """The model's prior at ``site_name`` as (D,) loc and scale; it must not depend on the point."""
    with torch.no_grad():
        model_trace = poutine.trace(poutine.replay(model, trace=guide_trace)).get_trace(
            *args, **kwargs
        )
    site = find_latent_sites(guide_trace, model_trace, latent_sites=[site_name])[0]
    loc, scale = gaussian_parameters(site.prior, site_name)
    if not (torch.allclose(loc, loc[:1]) and torch.allclose(scale, scale[:1])):
        raise ValueError(
            f"the model's prior at {site_name!r} differs between points (a conditional prior); "
            "pass prior=torch.distributions.Normal(loc, scale) for a fixed reference instead"
        )
    return loc[0].to("cpu", torch.float64), scale[0].to("cpu", torch.float64)


def encode_points(
    guide: Callable,
    source,
    selection: PointSelection,
    *,
    batch_size: int = 256,
    guide_args: GuideArgs | None = None,
    latent_site: str | None = None,
    model: Callable | None = None,
    device: torch.device | str | None = None,
) -> EncodedPoints:
    """Trace ``guide`` on every selected point, in batches, and read its Gaussian latent site.

    Observations are moved to ``device`` (when given) before the guide sees them; the parameters
    come back as float64 CPU tensors."""
    locs, scales = [], []
    site_name, plate_size, prior = None, None, (None, None)
    for part in batch_slices(len(selection.indices), batch_size):
        idx = selection.indices[part]
        facs = None if selection.factors is None else selection.factors[part]
        x = load_observations(source, idx, facs)
        x = x if device is None else x.to(device)
        args, kwargs = _call_args(x, idx, guide_args)
        names = None if latent_site is None else [latent_site]
        with torch.no_grad(), warnings.catch_warnings():
            # A plate of the batch's size is fine here: the points define the aggregate.
            warnings.filterwarnings("ignore", message=".*equal to the batch size")
            trace = poutine.trace(guide).get_trace(*args, **kwargs)
            site = _pick_site(find_latent_sites(trace, latent_sites=names), latent_site)
            if site_name is None and model is not None:
                prior = _model_prior(model, trace, site.name, args, kwargs)
        loc, scale = gaussian_parameters(site.dist, site.name)
        locs.append(loc.detach().to("cpu", torch.float64))
        scales.append(scale.detach().to("cpu", torch.float64))
        if site_name is None:
            site_name, plate_size = site.name, int(site.dataset_size)
    return EncodedPoints(torch.cat(locs), torch.cat(scales), site_name, plate_size, *prior)
