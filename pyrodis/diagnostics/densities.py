"""Per-dimension densities of any torch family, stacked over points: what the diagnostics hold.

A latent site's guide distribution factorises over its D dimensions (``docs/contract.rst``), so
the diagnostics need, per point m, the D univariate densities q(z_d | x_m) as ONE distribution of
batch shape ``(M, D)`` and event shape ``()``; the prior is one distribution of batch shape
``(D,)``. Any torch family whose parameters are listed in its ``arg_constraints`` qualifies
(Normal, Laplace, StudentT, Cauchy, Gamma, LogNormal, ...), and so does a
``TransformedDistribution`` of one (an AutoNormal latent on a constrained support, an
element-wise spline flow, a per-point affine transform) and a per-dimension ``MixtureSameFamily``.

The parameters are what is stored: :func:`map_params` rebuilds a distribution of the same family
(:mod:`pyrodis.inference.distribution_params`, the one rebuilding rule of the ELBOs and the
diagnostics) with every per-point parameter transformed (expanded, indexed, concatenated, cast to float64), so a float64
guide stays float64 and nothing is refitted to a Gaussian. :func:`check_per_point` is the one
validation of per-point parameters used by the aggregate posterior and the decomposition.
"""

from __future__ import annotations

from collections.abc import Sequence
from copy import deepcopy

import torch
from torch.distributions import (
    Distribution,
    Independent,
    MixtureSameFamily,
    TransformedDistribution,
)

from pyrodis.inference.distribution_params import (
    PER_POINT_TRANSFORMS,
    map_params,
    params_of,
    rebuild,
)

__all__ = [
    "as_float64",
    "center",
    "check_per_point",
    "concat_points",
    "leaf_params",
    "map_params",
    "per_dim_prior",
    "sample_seeded",
    "spread",
]


def _frozen_float64(module: torch.nn.Module) -> torch.nn.Module:
    """A float64 CPU copy of a transform's global parameters (a spline flow), without gradient."""
    copy = deepcopy(module).to("cpu", torch.float64)
    for p in copy.parameters():
        p.requires_grad_(False)
    return copy


def as_float64(d: Distribution) -> Distribution:
    """``d`` with float64 CPU parameters (detached; float64 input is kept exactly)."""
    return map_params(d, lambda p: p.detach().to("cpu", torch.float64), _frozen_float64)


def concat_points(parts: Sequence[Distribution]) -> Distribution:
    """Distributions of batch shapes ``(B_i, D)`` of one family joined into ``(ΣB_i, D)``."""
    if len(parts) == 1:
        return parts[0]
    return rebuild(list(parts), torch.cat)


def per_dim_prior(prior: Distribution, dim: int, name: str = "prior") -> Distribution:
    """A factorised prior as D univariate densities, batch shape ``(D,)``.

    Accepts a univariate distribution with batch shape ``()``, ``(D,)`` or ``(B, D)`` whose rows
    agree (a prior that does not depend on the point), or one wrapped in ``Independent``
    (``.to_event(1)``)."""
    base = prior
    while isinstance(base, Independent):
        base = base.base_dist
    if base.event_shape != ():
        raise ValueError(
            f"the {name} {type(prior).__name__} is not factorised over the latent dimensions "
            f"(event shape {tuple(base.event_shape)}); pass univariate densities, e.g. "
            "dist.Laplace(0., 1.) or dist.Normal(zeros(D), ones(D)).to_event(1)"
        )
    shape = tuple(base.batch_shape)
    if len(shape) > 2 or (shape and shape[-1] not in (1, dim)):
        raise ValueError(
            f"the {name} has batch shape {shape}; it must broadcast to the {dim} latent "
            "dimensions: a scalar distribution or one of batch shape (D,)"
        )
    rows = shape[0] if len(shape) == 2 else 1
    full = map_params(base, lambda p: p.detach().to("cpu", torch.float64).expand(rows, dim))
    first = map_params(full, lambda p: p[0])
    if rows > 1 and not all(
        torch.allclose(p, p[:1].expand_as(p), equal_nan=True) for p in leaf_params(full).values()
    ):
        raise ValueError(
            f"the {name} differs between points (a conditional prior); pass a fixed reference "
            "prior=, e.g. dist.Normal(0., 1.)"
        )
    return first


def leaf_params(d: Distribution) -> dict[str, torch.Tensor]:
    """The parameters of ``d`` by name (of its base for a TransformedDistribution, of its
    components, ``component_<name>`` of shape (..., K), for a mixture)."""
    if params_of(d):
        return params_of(d)
    if isinstance(d, TransformedDistribution):  # the base's, then per-point transform ones
        out = dict(leaf_params(d.base_dist))
        for i, t in enumerate(d.transforms):
            for name in PER_POINT_TRANSFORMS.get(type(t), ()):
                out[f"transform{i}_{name}"] = torch.as_tensor(getattr(t, name))
        return out
    if isinstance(d, MixtureSameFamily):
        parts = {"weight": d.mixture_distribution.probs}
        parts.update(
            {f"component_{k}": v for k, v in leaf_params(d.component_distribution).items()}
        )
        return parts
    return {}


def check_per_point(posterior: Distribution, prior: Distribution, what: str = "posterior") -> None:
    """The one check of per-point parameters: ``(M, D)`` with M ≥ 2 and D ≥ 1, every parameter
    of the posterior and of the ``(D,)`` prior finite (an infinite scale or a NaN location is an
    error here, never a NaN result downstream)."""
    shape = tuple(posterior.batch_shape)
    if len(shape) != 2 or posterior.event_shape != ():
        raise ValueError(
            f"the per-point {what} must be univariate densities of batch shape (M, D), got batch "
            f"{shape} and event {tuple(posterior.event_shape)}"
        )
    if shape[1] == 0:
        raise ValueError(
            "the guide's latent site has no latent dimension (D = 0); give it at least one"
        )
    if shape[0] < 2:
        raise ValueError(f"an aggregate posterior needs at least 2 points, got {shape[0]}")
    for label, d in ((f"{what}", posterior), ("prior", prior)):
        _check_params(label, d)
    if tuple(prior.batch_shape) != shape[1:]:
        raise ValueError(
            f"the prior has batch shape {tuple(prior.batch_shape)}, expected ({shape[1]},)"
        )


def _check_params(label: str, d: Distribution) -> None:
    if not params_of(d) and isinstance(d, TransformedDistribution):
        return _check_params(label, d.base_dist)
    if not params_of(d) and isinstance(d, MixtureSameFamily):
        _check_params(label, d.mixture_distribution)
        return _check_params(label, d.component_distribution)
    for name, value in params_of(d).items():
        if not bool(torch.isfinite(value).all()):
            raise ValueError(
                f"the {label}'s {type(d).__name__} parameter {name!r} is not finite everywhere "
                "(NaN or infinite); check the guide's output and the prior"
            )
        constraint = d.arg_constraints[name]
        if not bool(constraint.check(value).all()):
            raise ValueError(
                f"the {label}'s {type(d).__name__} parameter {name!r} violates {constraint} "
                "(e.g. a scale must be strictly positive); check the guide's output and the prior"
            )


def center(d: Distribution) -> torch.Tensor:
    """Per-point location: the mean where defined and finite, otherwise the median (the
    location parameter, or the transformed base median for a TransformedDistribution)."""
    try:
        mean = d.mean
        if bool(torch.isfinite(mean).all()):
            return mean
    except NotImplementedError:
        pass
    if isinstance(d, TransformedDistribution):
        value = center(d.base_dist)
        for t in d.transforms:
            value = t(value)
        return value
    if hasattr(d, "loc"):
        return d.loc.expand(d.batch_shape)
    return d.icdf(torch.full(d.batch_shape, 0.5, dtype=torch.float64))


def spread(d: Distribution) -> torch.Tensor:
    """Per-point standard deviation where defined (NaN where it is not, e.g. Cauchy)."""
    try:
        return d.stddev.expand(d.batch_shape)
    except NotImplementedError:
        return torch.full(d.batch_shape, float("nan"), dtype=torch.float64)


def sample_seeded(d: Distribution, sample_shape: tuple = (), seed: int = 0) -> torch.Tensor:
    """``d.sample(sample_shape)`` drawn from a private RNG state seeded by ``seed`` (the global
    torch RNG is left as it was)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(seed))
        return d.sample(torch.Size(sample_shape))
