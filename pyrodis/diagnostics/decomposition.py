"""Decomposition of the average KL into index-code MI, total correlation and dimension-wise KL.

For the aggregate posterior q(z) = (1/M) Σ_m q(z|x_m) over the M points used, Chen et al. (2018,
"Isolating Sources of Disentanglement in VAEs", eq. 2) split the average KL exactly::

    E_n KL(q(z|x_n) || p(z)) = E[log q(z|x_n) − log q(z)]              index-code MI
                             + E[log q(z) − Σ_j log q(z_j)]             total correlation
                             + E[Σ_j log q(z_j) − log p(z)]             dimension-wise KL

with the expectation over n uniform and z ~ q(z|x_n).  Per sample the three integrands telescope
to log q(z|x_n) − log p(z), so whatever estimate of log q(z) and log q(z_j) is used, the three
estimated terms sum *exactly* to the Monte-Carlo estimate of the KL; that estimate agrees with the
analytic Gaussian KL up to Monte-Carlo error.

Estimator (``reference`` estimator, stated once here and in :func:`kl_decomposition`):
every point n contributes ``samples_per_point`` samples z ~ q(z|x_n).  A fixed reference subset
of R points is drawn once, uniformly without replacement.  The density of the aggregate posterior at
a sample drawn from point n is estimated by keeping its own term exactly and estimating the mean of
the other M − 1 terms from the references other than n::

    q̂(z) = (1/M) q(z|x_n) + ((M − 1)/M) · (1/R_n) Σ_{r ∈ ref, r ≠ n} q(z|x_r),

and q̂(z_j) likewise per dimension with the same weights.  q̂ is unbiased for q (a uniform subset of
the others), so log q̂ is consistent as R grows (its downward bias is O(1/R)); with R = M it is the
exact aggregate posterior over the M points.  The cost is O(M · samples_per_point · R · D), linear
in the points used for a fixed R, and memory is bounded by evaluating the samples in chunks.
"""

from __future__ import annotations

import math

import torch

from .gaussian import as_prior_vector, gaussian_kl, gaussian_log_density

#: The number of reference points used by default (bias of log q̂ is O(1/R)).
DEFAULT_REFERENCE_SIZE = 1024


def kl_decomposition(
    loc: torch.Tensor,
    scale: torch.Tensor,
    prior_loc: torch.Tensor | float = 0.0,
    prior_scale: torch.Tensor | float = 1.0,
    *,
    samples_per_point: int = 1,
    reference_size: int = DEFAULT_REFERENCE_SIZE,
    seed: int = 0,
    chunk_elements: int = 2**22,
) -> dict:
    """Estimate MI, TC and dimension-wise KL of the aggregate of Gaussian posteriors.

    Args:
        loc, scale: the per-point Gaussian posterior parameters, shape (M, D), M ≥ 2.
        prior_loc, prior_scale: the factorised Gaussian prior (scalars or (D,)); N(0, I) by default.
        samples_per_point: samples z ~ q(z|x_n) drawn per point (S = M · samples_per_point in all).
        reference_size: R, the size of the reference subset used to estimate log q(z) and
            log q(z_j) (see the module docstring); R ≥ M gives the exact aggregate over the M points.
        seed: seeds the reference subset and the samples.
        chunk_elements: bound on the size of the (chunk, R, D) log-density block held in memory.

    Returns:
        A dict with ``mi``, ``tc``, ``dwkl`` (floats, nats) and ``kl`` = mi + tc + dwkl (the
        Monte-Carlo KL, equal to the sum up to float rounding), ``kl_analytic`` (the average
        analytic Gaussian KL), standard errors ``mi_se``, ``tc_se``, ``dwkl_se``, ``kl_se`` (sample
        standard deviation / √S; they ignore the reference subset's own randomness),
        ``dwkl_per_dim`` (list of D floats), ``kl_per_dim`` (analytic, list of D floats),
        ``num_points`` M, ``num_samples`` S, ``reference_size`` R and ``estimator``.

    Reference: Chen, Li, Grosse & Duvenaud (2018), "Isolating Sources of Disentanglement in
    Variational Autoencoders", NeurIPS.
    """
    loc = torch.as_tensor(loc, dtype=torch.float64)
    scale = torch.as_tensor(scale, dtype=torch.float64)
    if loc.ndim != 2 or loc.shape != scale.shape:
        raise ValueError(
            f"loc and scale must both have shape (M, D), got {tuple(loc.shape)} and "
            f"{tuple(scale.shape)}"
        )
    num_points, dim = loc.shape
    if num_points < 2:
        raise ValueError(f"the decomposition needs at least 2 points, got {num_points}")
    if reference_size < 2:
        raise ValueError(f"reference_size must be at least 2, got {reference_size}")
    if samples_per_point < 1:
        raise ValueError(f"samples_per_point must be at least 1, got {samples_per_point}")
    if not bool((scale > 0).all()) or not bool(torch.isfinite(loc).all()):
        raise ValueError("loc must be finite and scale strictly positive; check the guide's output")
    p_loc = as_prior_vector(prior_loc, dim, "prior_loc")
    p_scale = as_prior_vector(prior_scale, dim, "prior_scale")

    gen = torch.Generator().manual_seed(int(seed))
    num_ref = min(int(reference_size), num_points)
    ref = torch.randperm(num_points, generator=gen)[:num_ref]
    ref_pos = torch.full((num_points,), -1, dtype=torch.long)
    ref_pos[ref] = torch.arange(num_ref)
    ref_loc, ref_inv_scale = loc[ref], 1.0 / scale[ref]
    ref_log_norm = torch.log(scale[ref]) + 0.5 * math.log(2.0 * math.pi)
    points = torch.arange(num_points).repeat(samples_per_point)
    eps = torch.randn(points.shape[0], dim, generator=gen, dtype=torch.float64)

    log_m = math.log(num_points)
    log_others = math.log(num_points - 1) - log_m
    chunk = max(1, chunk_elements // (num_ref * dim))
    per_sample = {"mi": [], "tc": [], "dwkl": []}
    for start in range(0, points.shape[0], chunk):
        n = points[start : start + chunk]
        z = loc[n] + scale[n] * eps[start : start + chunk]
        own = gaussian_log_density(z, loc[n], scale[n])  # (c, D)
        block = (z[:, None, :] - ref_loc).mul_(ref_inv_scale).square_().mul_(-0.5)
        block -= ref_log_norm  # (c, R, D): log N(z_cd; ref loc, ref scale), in place
        rows = torch.nonzero(ref_pos[n] >= 0).squeeze(1)
        block[rows, ref_pos[n[rows]]] = -math.inf  # a point is not its own reference
        count = num_ref - (ref_pos[n] >= 0).to(torch.float64)
        log_w = log_others - torch.log(count)  # (c,)
        log_qz = torch.logaddexp(own.sum(-1) - log_m, torch.logsumexp(block.sum(-1), dim=1) + log_w)
        log_qzj = torch.logaddexp(own - log_m, torch.logsumexp(block, dim=1) + log_w[:, None])
        log_pz = gaussian_log_density(z, p_loc, p_scale)
        per_sample["mi"].append(own.sum(-1) - log_qz)
        per_sample["tc"].append(log_qz - log_qzj.sum(-1))
        per_sample["dwkl"].append(log_qzj - log_pz)

    mi = torch.cat(per_sample["mi"])
    tc = torch.cat(per_sample["tc"])
    dwkl_dims = torch.cat(per_sample["dwkl"])
    dwkl = dwkl_dims.sum(-1)
    kl = mi + tc + dwkl
    root_s = math.sqrt(kl.shape[0])
    kl_dims = gaussian_kl(loc, scale, p_loc, p_scale).mean(0)
    out = {name: float(v.mean()) for name, v in (("mi", mi), ("tc", tc), ("dwkl", dwkl))}
    out["kl"] = out["mi"] + out["tc"] + out["dwkl"]
    out.update({f"{k}_se": float(v.std() / root_s) for k, v in (("mi", mi), ("tc", tc))})
    out["dwkl_se"] = float(dwkl.std() / root_s)
    out["kl_se"] = float(kl.std() / root_s)
    out["kl_analytic"] = float(kl_dims.sum())
    out["dwkl_per_dim"] = dwkl_dims.mean(0).tolist()
    out["kl_per_dim"] = kl_dims.tolist()
    out["num_points"] = num_points
    out["num_samples"] = int(kl.shape[0])
    out["reference_size"] = num_ref
    out["estimator"] = (
        f"reference subset: own term exact + {num_ref} reference points "
        f"(exact when R = M), {samples_per_point} sample(s) per point"
    )
    return out
