"""Diagonal-Gaussian densities and KL divergences used by the diagnostics (float64, per dimension).

Everything here works per latent dimension and broadcasts like :mod:`torch.distributions`:
``loc`` and ``scale`` of a factorised Gaussian q(z|x) = Π_j N(z_j; μ_j, σ_j²) have shape (..., D).
"""

from __future__ import annotations

import math

import torch

_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)


def gaussian_log_density(z: torch.Tensor, loc: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """Per-dimension log N(z; loc, scale²), broadcast over all arguments (no reduction)."""
    std = (z - loc) / scale
    return -0.5 * std * std - torch.log(scale) - _HALF_LOG_2PI


def gaussian_kl(
    loc: torch.Tensor,
    scale: torch.Tensor,
    prior_loc: torch.Tensor | float = 0.0,
    prior_scale: torch.Tensor | float = 1.0,
) -> torch.Tensor:
    """Per-dimension KL(N(loc, scale²) || N(prior_loc, prior_scale²)) in nats (no reduction).

    KL = log(s_p/s_q) + (s_q² + (μ_q − μ_p)²) / (2 s_p²) − 1/2.
    """
    prior_loc = torch.as_tensor(prior_loc, dtype=loc.dtype)
    prior_scale = torch.as_tensor(prior_scale, dtype=loc.dtype)
    ratio = scale / prior_scale
    diff = (loc - prior_loc) / prior_scale
    return 0.5 * (ratio * ratio + diff * diff - 1.0) - torch.log(ratio)


def as_prior_vector(value: torch.Tensor | float, dim: int, name: str) -> torch.Tensor:
    """A prior parameter (scalar or (D,)) as a float64 vector (D,), with a clear error otherwise."""
    out = torch.as_tensor(value, dtype=torch.float64)
    try:
        return out.expand(dim).clone()
    except RuntimeError:
        raise ValueError(
            f"{name} must be a scalar or have shape ({dim},) to match the latent dimension, "
            f"got shape {tuple(out.shape)}"
        ) from None
