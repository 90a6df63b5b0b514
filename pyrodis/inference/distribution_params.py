"""The per-point parameters of a univariate torch distribution, read and rebuilt.

The ELBOs (:mod:`pyrodis.inference.site_distributions`) and the diagnostics
(:mod:`pyrodis.diagnostics.densities`) both hold per-dimension densities of batch shape ``(B, D)``
and need the same distribution with every per-point parameter reshaped, indexed, joined or cast.
:func:`rebuild` is that one operation (``docs/contract.rst``, "Families and transforms"):

- a family whose parameters are its ``arg_constraints`` (Normal, Laplace, StudentT, Beta,
  Kumaraswamy, LogNormal, ...): every parameter, broadcast to the batch shape, goes through ``fn``;
- ``MixtureSameFamily`` per dimension: the mixture weights and the components' parameters, one
  component at a time (their trailing K axis is kept);
- a ``TransformedDistribution`` (torch's or Pyro's, any subclass) of an element-wise transform:
  its base is rebuilt, and so are the transforms' per-point parameters (``AffineTransform``'s
  ``loc``/``scale``, ``PowerTransform``'s ``exponent``). A ``TransformModule`` (e.g. Pyro's
  ``Spline``) holds global parameters shared by every point: it is kept whole (``module_fn`` may
  copy it, e.g. to float64). Any other transform holding tensors is refused, since pyrodis cannot
  tell whether they are per point.

Shapes: every tensor ``fn`` receives has the distribution's batch shape.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from pyro.distributions import TransformedDistribution as PyroTransformed
from torch.distributions import (
    AffineTransform,
    ComposeTransform,
    Distribution,
    MixtureSameFamily,
    PowerTransform,
    Transform,
    TransformedDistribution,
)

__all__ = [
    "PER_POINT_TRANSFORMS",
    "UnsupportedDistribution",
    "map_params",
    "params_of",
    "rebuild",
]

TensorsFn = Callable[[list[torch.Tensor]], torch.Tensor]
ModuleFn = Callable[[torch.nn.Module], torch.nn.Module]

#: the per-point tensors of the transforms pyrodis knows how to rebuild
PER_POINT_TRANSFORMS = {AffineTransform: ("loc", "scale"), PowerTransform: ("exponent",)}


class UnsupportedDistribution(TypeError):
    """A distribution whose per-point parameters pyrodis cannot read (the message says why)."""


def params_of(d: Distribution) -> dict[str, torch.Tensor]:
    """The parameters of ``d`` named by its ``arg_constraints`` (``logits`` dropped beside
    ``probs``, which would be a second copy of the same parameter)."""
    names = [k for k in d.arg_constraints if not (k == "logits" and "probs" in d.arg_constraints)]
    return {k: torch.as_tensor(getattr(d, k)) for k in names}


def _apply(fn: TensorsFn, tensors: list[torch.Tensor], trailing: bool) -> torch.Tensor:
    if not trailing:
        return fn(tensors)
    count = tensors[0].shape[-1]
    return torch.stack([fn([t[..., k] for t in tensors]) for k in range(count)], -1)


def _family(parts: Sequence[Distribution], fn: TensorsFn, trailing: bool) -> Distribution:
    first = parts[0]
    names = list(params_of(first))
    shapes = [p.batch_shape for p in parts]
    if isinstance(first, torch.distributions.Categorical):
        shapes = [p.probs.shape for p in parts]  # the K categories trail the batch
        trailing = True
    try:
        tensors = {k: [params_of(p)[k].expand(s) for p, s in zip(parts, shapes)] for k in names}
        new = {k: _apply(fn, ts, trailing) for k, ts in tensors.items()}
        return type(first)(**new, validate_args=False)
    except (TypeError, RuntimeError, ValueError, AttributeError, NotImplementedError) as err:
        raise UnsupportedDistribution(
            f"cannot rebuild {type(first).__name__} from its parameters {names} ({err})"
        ) from None


def _transform(ts: Sequence[Transform], shapes, fn: TensorsFn, module_fn: ModuleFn | None):
    first = ts[0]
    if isinstance(first, ComposeTransform):
        count = len(first.parts)
        return ComposeTransform(
            [_transform([t.parts[i] for t in ts], shapes, fn, module_fn) for i in range(count)]
        )
    if isinstance(first, torch.nn.Module):  # a TransformModule: global parameters, kept whole
        return first if module_fn is None else module_fn(first)
    names = next((v for k, v in PER_POINT_TRANSFORMS.items() if type(first) is k), None)
    if names is not None:
        if first.event_dim != 0:
            raise UnsupportedDistribution(
                f"{type(first).__name__} with event_dim={first.event_dim} is not element-wise"
            )
        new = {
            k: fn([torch.as_tensor(getattr(t, k)).expand(s) for t, s in zip(ts, shapes)])
            for k in names
        }
        return type(first)(**new, cache_size=first._cache_size)
    held = [k for k, v in vars(first).items() if isinstance(v, torch.Tensor) and v.numel() > 1]
    if held:
        raise UnsupportedDistribution(
            f"the transform {type(first).__name__} holds tensors {held} that may be per point; "
            "pyrodis rebuilds AffineTransform and PowerTransform per point and keeps a "
            "TransformModule (e.g. pyro's Spline, global parameters) whole: use one of those"
        )
    return first  # parameter-free (Exp, Sigmoid, Softplus, ...)


def _transformed(parts, fn: TensorsFn, module_fn: ModuleFn | None) -> Distribution:
    first = parts[0]
    shapes = [p.batch_shape for p in parts]
    if first.event_shape != ():
        raise UnsupportedDistribution(
            f"the transforms of {type(first).__name__} are not element-wise (event shape "
            f"{tuple(first.event_shape)}); use element-wise transforms (event_dim=0)"
        )
    base = rebuild([p.base_dist for p in parts], fn, module_fn)
    transforms = [
        _transform([p.transforms[i] for p in parts], shapes, fn, module_fn)
        for i in range(len(first.transforms))
    ]
    # torch's or Pyro's class; a subclass with its own signature becomes torch's
    cls = type(first) if type(first) in (TransformedDistribution, PyroTransformed) else None
    return (cls or TransformedDistribution)(base, transforms, validate_args=False)


def rebuild(
    parts: Sequence[Distribution],
    fn: TensorsFn,
    module_fn: ModuleFn | None = None,
    trailing: bool = False,
) -> Distribution:
    """One distribution of the family of ``parts[0]`` whose every per-point parameter is
    ``fn([the matching parameter of each part, broadcast to that part's batch shape])``.

    Raises:
        UnsupportedDistribution: the family keeps its parameters elsewhere than in
            ``arg_constraints`` and is not one of those the module docstring lists.
    """
    first = parts[0]
    if params_of(first):
        return _family(parts, fn, trailing)
    if isinstance(first, MixtureSameFamily):
        mix = rebuild([p.mixture_distribution for p in parts], fn, module_fn)
        comp = rebuild([p.component_distribution for p in parts], fn, module_fn, trailing=True)
        return MixtureSameFamily(mix, comp, validate_args=False)
    if isinstance(first, TransformedDistribution):
        return _transformed(parts, fn, module_fn)
    raise UnsupportedDistribution(
        f"{type(first).__name__} lists no parameters in its arg_constraints; use a torch family "
        "whose parameters are its arg_constraints (Normal, Laplace, StudentT, Beta, ...), a "
        "per-dimension MixtureSameFamily, or a TransformedDistribution of one"
    )


def map_params(
    d: Distribution,
    fn: Callable[[torch.Tensor], torch.Tensor],
    module_fn: ModuleFn | None = None,
) -> Distribution:
    """``d`` rebuilt with ``fn`` applied to every per-point parameter (see :func:`rebuild`)."""
    return rebuild([d], lambda ts: fn(ts[0]), module_fn)
