"""The latent-site contract: find the guide's per-data-point latent sites in a pair of traces.

A *latent site* is a ``pyro.sample`` site of the guide that sits inside a data plate
(``pyro.plate("data", size=N, subsample=idx)``) and whose distribution factorises over the latent
dimensions, e.g. ``Normal(loc, scale).to_event(1)`` with batch shape ``(B,)`` and event shape
``(D,)``; the per-dimension densities come from its ``base_dist`` (batch shape ``(B, D)``).
The model must hold a sample site of the same name (the prior ``p(z)``).

Every disentangling ELBO of :mod:`pyrodis.inference` reads its sites through
:func:`find_latent_sites`, so any user-written model/guide pair that follows the contract works
with them; nothing depends on :class:`pyrodis.models.VAE`.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field

import torch
from pyro.poutine import Trace

__all__ = [
    "LatentSite",
    "LatentSiteError",
    "find_latent_sites",
    "factorised_base",
    "concat_latents",
]

_PLATE_HINT = (
    "wrap the site in `with pyro.plate('data', size=N, subsample=indices):` in both model and "
    "guide, with N the dataset size"
)


class LatentSiteError(ValueError):
    """A model/guide pair does not follow the latent-site contract (the message says the fix)."""


@dataclass
class LatentSite:
    """One latent sample site of the guide, with what the ELBOs need to know about it.

    Attributes:
        name: guide sample site name.
        plate: name of the data plate the site sits in.
        dataset_size: N, the plate's full size.
        batch_size: B, the subsample size.
        dist: the guide distribution, batch shape ``(B,)``, event shape ``(D,)``.
        value: the sampled z, ``(B, D)``.
        prior: the model's distribution at the same site (``None`` if no model trace was given).
        scale: the site's scale factor (N/B times any ``poutine.scale``).
    """

    name: str
    plate: str
    dataset_size: int
    batch_size: int
    dist: torch.distributions.Distribution
    value: torch.Tensor
    prior: torch.distributions.Distribution | None = None
    scale: float | torch.Tensor = field(default=1.0)

    @property
    def latent_dim(self) -> int:
        """D, the number of latent dimensions of the site."""
        return int(self.value.shape[-1])


def factorised_base(site_name: str, fn: torch.distributions.Distribution):
    """Return the per-dimension distribution (batch ``(B, D)``) of a factorised guide site.

    Accepts ``Independent(base, 1)`` (what ``.to_event(1)`` builds) whose base has batch shape
    ``(B, D)``. Anything else raises :class:`LatentSiteError` naming the site.
    """
    base = getattr(fn, "base_dist", None)
    ndims = getattr(fn, "reinterpreted_batch_ndims", None)
    if not isinstance(fn, torch.distributions.Independent) or ndims != 1 or base is None:
        raise LatentSiteError(
            f"latent site {site_name!r}: the guide distribution {type(fn).__name__} with event "
            f"shape {tuple(fn.event_shape)} is not factorised over the latent dimensions; sample "
            "it as a product of univariate densities, e.g. `pyro.sample(name, "
            "dist.Normal(loc, scale).to_event(1))` with loc, scale of shape (B, D)"
        )
    if len(base.batch_shape) != 2:
        raise LatentSiteError(
            f"latent site {site_name!r}: expected per-dimension densities of batch shape (B, D), "
            f"got {tuple(base.batch_shape)}; use a (B, D) loc/scale inside the data plate only "
            "(vectorised particles, `vectorize_particles=True`, are not supported)"
        )
    return base


def _data_frame(site: dict, plate: str | None):
    frames = [f for f in site["cond_indep_stack"] if f.vectorized]
    if plate is not None:
        frames = [f for f in frames if f.name == plate]
    else:
        frames = [f for f in frames if f.dim == -1]
    return frames[0] if frames else None


def _guide_candidates(guide_trace: Trace) -> list[str]:
    return [
        name
        for name, site in guide_trace.nodes.items()
        if site["type"] == "sample"
        and not site["is_observed"]
        and type(site["fn"]).__name__ != "_Subsample"
        and any(f.vectorized for f in site["cond_indep_stack"])
    ]


def find_latent_sites(
    guide_trace: Trace,
    model_trace: Trace | None = None,
    latent_sites: Iterable[str] | None = None,
    min_batch_size: int = 2,
) -> list[LatentSite]:
    """Find the latent sites of a guide trace (and check them against the model trace).

    Args:
        guide_trace: a trace of the guide (``poutine.trace(guide).get_trace(...)``).
        model_trace: the model run against it (``poutine.replay``); when given, each latent
            site must exist in it (the prior).
        latent_sites: names of the latent sites; ``None`` takes every non-observed guide sample
            site that sits inside a vectorised plate.
        min_batch_size: smallest batch size accepted (2: the aggregate-posterior estimators
            need at least one other data point).

    Returns:
        one :class:`LatentSite` per site, in trace order.

    Raises:
        LatentSiteError: a site is missing, not inside a data plate, not factorised, has a
            batch smaller than ``min_batch_size``, or has no prior in the model.

    A data plate whose full size equals the batch size (the usual sign of a forgotten
    ``size=N``) triggers a :class:`UserWarning`: full-batch training is legitimate, but the
    aggregate posterior then covers only the batch.
    """
    if latent_sites is None:
        names = _guide_candidates(guide_trace)
        if not names:
            raise LatentSiteError(
                "no latent site found: the guide has no sample site inside a data plate; "
                + _PLATE_HINT
            )
    else:
        names = [latent_sites] if isinstance(latent_sites, str) else list(latent_sites)
        if not names:
            raise LatentSiteError("latent_sites is empty; pass site names or None")
    result = []
    for name in names:
        if name not in guide_trace.nodes or guide_trace.nodes[name]["type"] != "sample":
            available = _guide_candidates(guide_trace)
            raise LatentSiteError(
                f"latent site {name!r} is not a sample site of the guide; guide sites in a "
                f"plate: {available}"
            )
        site = guide_trace.nodes[name]
        frame = _data_frame(site, None)
        if frame is None:
            raise LatentSiteError(
                f"latent site {name!r} is not inside a data plate; " + _PLATE_HINT
            )
        try:
            base = factorised_base(name, site["fn"])
        except LatentSiteError as err:
            if latent_sites is None:
                raise LatentSiteError(
                    f"{err} (or pass latent_sites=[...] to select sites)"
                ) from None
            raise
        batch = int(frame.size)
        full = int(frame.full_size) if frame.full_size is not None else batch
        if base.batch_shape[0] != batch:
            raise LatentSiteError(
                f"latent site {name!r}: batch shape {tuple(base.batch_shape)} does not match "
                f"the plate {frame.name!r} of size {batch}; put the batch dimension at dim -1 "
                "of the plate and the latent dimension in the event (`.to_event(1)`)"
            )
        if batch < min_batch_size:
            raise LatentSiteError(
                f"latent site {name!r}: batch size {batch} < {min_batch_size}; this ELBO's "
                f"aggregate-posterior terms need at least {min_batch_size} data points per "
                "batch: use a larger batch (and drop_last=True in the data loader)"
            )
        if full == batch:
            warnings.warn(
                f"latent site {name!r}: the plate {frame.name!r} has size {full} equal to the "
                f"batch size; if the dataset is larger, pass its size: "
                f"pyro.plate({frame.name!r}, size=N, subsample=indices)",
                UserWarning,
                stacklevel=3,
            )
        prior = None
        if model_trace is not None:
            msite = model_trace.nodes.get(name)
            if msite is None or msite["type"] != "sample" or msite["is_observed"]:
                raise LatentSiteError(
                    f"latent site {name!r} of the guide has no prior in the model: add "
                    f"`pyro.sample({name!r}, prior)` inside the model's data plate "
                    "(e.g. dist.Normal(0, 1).expand([D]).to_event(1))"
                )
            prior = msite["fn"]
        scale = site["scale"]
        result.append(
            LatentSite(
                name=name,
                plate=frame.name,
                dataset_size=full,
                batch_size=batch,
                dist=site["fn"],
                value=site["value"],
                prior=prior,
                scale=scale,
            )
        )
    _check_same_plate(result)
    return result


def _check_same_plate(sites: list[LatentSite]) -> None:
    first = sites[0]
    for s in sites[1:]:
        if (s.plate, s.dataset_size, s.batch_size) != (
            first.plate,
            first.dataset_size,
            first.batch_size,
        ):
            raise LatentSiteError(
                f"latent sites {first.name!r} and {s.name!r} sit in different data plates "
                f"({first.plate!r}: {first.batch_size}/{first.dataset_size}, {s.plate!r}: "
                f"{s.batch_size}/{s.dataset_size}); pass latent_sites= to select one set"
            )


def concat_latents(sites: list[LatentSite]) -> tuple[torch.Tensor, list]:
    """Join several latent sites into one latent vector.

    Returns ``(z, bases)``: ``z`` of shape ``(B, sum D)`` and the per-dimension distributions
    of every site (batch ``(B, D_k)``), in the same order.
    """
    z = torch.cat([s.value for s in sites], dim=-1) if len(sites) > 1 else sites[0].value
    bases = [factorised_base(s.name, s.dist) for s in sites]
    return z, bases


def log_dataset_size(sites: list[LatentSite]) -> float:
    """log N of the data plate shared by ``sites``."""
    return math.log(sites[0].dataset_size)
