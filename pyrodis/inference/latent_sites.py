"""The latent-site contract: find the guide's per-data-point latent sites in a pair of traces.

A *latent site* is a ``pyro.sample`` site of the guide inside the data plate
(``pyro.plate("data", size=N, subsample=idx)``) whose distribution factorises over the latent
dimensions, e.g. ``Normal(loc, scale).to_event(1)``; the model holds the prior ``p(z)`` at a site of
the same name. :class:`pyro.infer.autoguide.AutoNormal` guides qualify: the ``Delta`` they sample at
the latent site is read through its auxiliary ``<name>_unconstrained`` Normal. The full contract,
with every error and its fix, is in ``docs/contract.rst``.

The data plate is the ``data_plate=`` option when given; otherwise the outermost plate of the
model's observed site (when a model trace is given), else a subsampled plate, else the plate named
``"data"``, else the only plate the site is in. Guide sites outside the data plate (globals,
per-feature latents) are not latent sites; auxiliary sites never are.

Every disentangling ELBO of :mod:`pyrodis.inference` reads its sites through
:func:`find_latent_sites`, so nothing depends on :class:`pyrodis.models.VAE`.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field

import torch
from pyro.poutine import Trace

from pyrodis.inference.site_distributions import (
    LatentSiteError,
    autoguide_feeder,
    autoguide_per_dim,
    per_dim_distribution,
)

__all__ = [
    "LatentSite",
    "LatentSiteError",
    "find_latent_sites",
    "model_data_plate",
    "per_point",
    "point_mask",
]

_PLATE_HINT = (
    "wrap the site in `with pyro.plate('data', size=N, subsample=indices):` in both model and "
    "guide, with N the dataset size (or name your data plate with data_plate=)"
)


@dataclass
class LatentSite:
    """One latent sample site of the guide, with what the ELBOs need to know about it.

    Attributes:
        name: guide sample site name.
        plate: name of the data plate the site sits in.
        dataset_size: N, the plate's full size.
        batch_size: B, the subsample size.
        dist: the guide distribution at the site (event shape ``(D,)``).
        value: the sampled z, ``(B, D)``.
        per_dim: the per-dimension guide densities q(z_d | x_b), batch shape ``(B, D)``.
        prior: the model's distribution at the same site (``None`` without a model trace).
        aux_name: the autoguide's auxiliary site feeding this one (AutoNormal), else ``None``.
        scale: the site's scale factor (N/B times any ``poutine.scale``).
        mask: ``(B,)`` booleans, False for the points ``poutine.mask`` masks out at this guide
            site, or ``None`` when no point is masked (``docs/contract.rst``, "Masks").
    """

    name: str
    plate: str
    dataset_size: int
    batch_size: int
    dist: torch.distributions.Distribution
    value: torch.Tensor
    per_dim: torch.distributions.Distribution
    prior: torch.distributions.Distribution | None = None
    aux_name: str | None = None
    scale: float | torch.Tensor = field(default=1.0)
    mask: torch.Tensor | None = None

    @property
    def latent_dim(self) -> int:
        """D, the number of latent dimensions of the site."""
        return int(self.value.shape[-1])

    @property
    def prior_per_dim(self) -> torch.distributions.Distribution | None:
        """The prior's per-dimension densities, batch ``(B, D)``, or None if not factorised."""
        if self.prior is None:
            return None
        try:
            return per_dim_distribution(self.name, self.prior, self.batch_size)
        except LatentSiteError:
            pass
        base = self.prior  # a prior shared by the points: batch () or (D,) inside the plate
        while isinstance(base, torch.distributions.Independent):
            base = base.base_dist
        return base if base.event_shape == () else None


def _is_candidate(site: dict) -> bool:
    return (
        site["type"] == "sample"
        and not site["is_observed"]
        and type(site["fn"]).__name__ != "_Subsample"
        and not site["infer"].get("is_auxiliary", False)
    )


def model_data_plate(model_trace: Trace | None) -> str | None:
    """The outermost vectorised plate of the model's first observed site (None if none)."""
    if model_trace is None:
        return None
    for site in model_trace.nodes.values():
        if site["type"] == "sample" and site["is_observed"]:
            frames = [f for f in site["cond_indep_stack"] if f.vectorized]
            if frames:
                return min(frames, key=lambda f: f.dim).name
    return None


def _data_frame(site: dict, plate: str | None):
    frames = [f for f in site["cond_indep_stack"] if f.vectorized]
    if plate is not None:
        return next((f for f in frames if f.name == plate), None)
    for rule in (
        lambda f: f.full_size is not None and f.full_size > f.size,
        lambda f: f.name == "data",
    ):
        chosen = [f for f in frames if rule(f)]
        if len(chosen) == 1:
            return chosen[0]
    return frames[0] if len(frames) == 1 else None


def _prior_of(name: str, model_trace: Trace) -> torch.distributions.Distribution:
    msite = model_trace.nodes.get(name)
    if msite is None or msite["type"] != "sample" or msite["is_observed"]:
        latents = [n for n, s in model_trace.nodes.items() if _is_candidate(s)]
        raise LatentSiteError(
            f"latent site {name!r} of the guide has no prior in the model (the model's latent "
            f"sites are {latents}): add `pyro.sample({name!r}, prior)` inside the model's data "
            "plate (e.g. dist.Normal(0, 1).expand([D]).to_event(1)), or rename the guide site"
        )
    return msite["fn"]


def _check_batch(name: str, frame, min_batch_size: int) -> tuple[int, int]:
    batch = int(frame.size)
    full = int(frame.full_size) if frame.full_size is not None else batch
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
            stacklevel=4,
        )
    return batch, full


def _site(name, guide_trace, model_trace, plate, min_batch_size, explicit) -> LatentSite:
    site = guide_trace.nodes[name]
    frame = _data_frame(site, plate)
    if frame is None:
        raise LatentSiteError(f"latent site {name!r} is not inside a data plate; " + _PLATE_HINT)
    prior = None if model_trace is None else _prior_of(name, model_trace)
    aux = autoguide_feeder(name, guide_trace)
    try:
        if aux is None:
            per_dim = per_dim_distribution(name, site["fn"], int(frame.size))
        else:
            aux_fn = guide_trace.nodes[aux]["fn"]
            per_dim = autoguide_per_dim(name, aux_fn, prior, int(frame.size))
    except LatentSiteError as err:
        if explicit:
            raise
        raise LatentSiteError(f"{err} (or pass latent_sites=[...] to select sites)") from None
    batch, full = _check_batch(name, frame, min_batch_size)
    value = site["value"].reshape(batch, per_dim.batch_shape[-1])
    mask = point_mask(name, site, batch, "guide")
    return LatentSite(
        name, frame.name, full, batch, site["fn"], value, per_dim, prior, aux, site["scale"], mask
    )


def point_mask(name: str, site: dict, batch_size: int, side: str) -> torch.Tensor | None:
    """A site's ``poutine.mask`` as one boolean per data point, ``(B,)`` (None: nothing masked).

    Raises:
        LatentSiteError: the mask differs within a data point (a point is in or out as a whole).
    """
    mask = site.get("mask")
    if mask is None or mask is True:
        return None
    shape = site["fn"].batch_shape
    mask = torch.as_tensor(mask, dtype=torch.bool, device=site["value"].device)
    try:
        rows = torch.broadcast_to(mask, shape).reshape(batch_size, -1)
    except RuntimeError:
        rows = mask.new_zeros(batch_size, 2)
        rows[:, 0] = True  # not one value per point: refused below
    if not bool((rows.all(-1) == rows.any(-1)).all()):
        raise LatentSiteError(
            f"latent site {name!r}: the {side}'s poutine.mask (shape {tuple(mask.shape)}) is not "
            f"one value per data point of the site's batch shape {tuple(shape)}; a point is in or "
            "out as a whole: give the mask the shape of the data plate's dimension"
        )
    per_point = rows[:, 0]
    return None if bool(per_point.all()) else per_point


def find_latent_sites(
    guide_trace: Trace,
    model_trace: Trace | None = None,
    latent_sites: Iterable[str] | None = None,
    min_batch_size: int = 2,
    data_plate: str | None = None,
) -> list[LatentSite]:
    """Find the latent sites of a guide trace (and check them against the model trace).

    Args:
        guide_trace: a trace of the guide (``poutine.trace(guide).get_trace(...)``).
        model_trace: the model run against it (``poutine.replay``); when given, each latent
            site must exist in it (the prior), and it tells which plate is the data plate.
        latent_sites: names of the latent sites; ``None`` takes every guide sample site in the
            data plate (auxiliary sites excluded).
        min_batch_size: smallest batch size accepted (2: the aggregate-posterior estimators
            need at least one other data point).
        data_plate: name of the data plate (default: found as the module docstring says).

    Returns:
        one :class:`LatentSite` per site, in trace order.

    Raises:
        LatentSiteError: a site is missing, not inside a data plate, not factorised, has a
            batch smaller than ``min_batch_size``, or has no prior in the model.

    A data plate whose full size equals the batch size (the usual sign of a forgotten
    ``size=N``) triggers a :class:`UserWarning`: full-batch training is legitimate, but the
    aggregate posterior then covers only the batch.
    """
    plate = data_plate or model_data_plate(model_trace)
    if latent_sites is None:
        names = [
            n
            for n, s in guide_trace.nodes.items()
            if _is_candidate(s) and _data_frame(s, plate) is not None
        ]
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
        node = guide_trace.nodes.get(name)
        if node is None or node["type"] != "sample":
            available = [n for n, s in guide_trace.nodes.items() if _is_candidate(s)]
            raise LatentSiteError(
                f"latent site {name!r} is not a sample site of the guide; guide sites in a "
                f"plate: {available}"
            )
        result.append(
            _site(name, guide_trace, model_trace, plate, min_batch_size, latent_sites is not None)
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


def per_point(site_log_prob: torch.Tensor, batch_size: int) -> torch.Tensor:
    """A site's unscaled log-probability summed to one value per data point, ``(B,)``."""
    if site_log_prob.dim() == 0:
        return site_log_prob.expand(batch_size)
    return site_log_prob.reshape(batch_size, -1).sum(-1)
