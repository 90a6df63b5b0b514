"""Decomposition of the average KL into index-code MI, total correlation and dimension-wise KL.

For the aggregate posterior q(z) = (1/M) Σ_m q(z|x_m) over the M points used, Chen et al. (2018,
"Isolating Sources of Disentanglement in VAEs", eq. 2) split the average KL exactly::

    E_n KL(q(z|x_n) || p(z)) = E[log q(z|x_n) − log q(z)]              index-code MI
                             + E[log q(z) − Σ_j log q(z_j)]             total correlation
                             + E[Σ_j log q(z_j) − log p(z)]             dimension-wise KL

with the expectation over n uniform and z ~ q(z|x_n).  Per sample the three integrands telescope
to log q(z|x_n) − log p(z), so whatever estimate of log q(z) and log q(z_j) is used, the three
estimated terms sum *exactly* to the Monte-Carlo estimate of the KL; that estimate agrees with the
KL per dimension (closed form, or its own Monte-Carlo estimate) up to Monte-Carlo error.

Every density is the guide's or the prior's own ``log_prob`` per dimension, for any factorised
family (:mod:`pyrodis.diagnostics.densities`): Normal, Laplace, Student-t, several sites of
different families side by side (:class:`~pyrodis.diagnostics.joint.JointDensity`).

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
from torch.distributions import Distribution

from .densities import check_per_point
from .joint import JointDensity, as_joint, kl_per_dim, standard_normal

#: The number of reference points used by default (bias of log q̂ is O(1/R)).
DEFAULT_SUBSET_SIZE = 1024


def _check(posterior: JointDensity, prior: JointDensity, reference_size, samples_per_point):
    for q, p in zip(posterior.parts, prior.parts):
        check_per_point(q, p)
    if reference_size < 2:
        raise ValueError(f"reference_size must be at least 2, got {reference_size}")
    if samples_per_point < 1:
        raise ValueError(f"samples_per_point must be at least 1, got {samples_per_point}")


def _reference(posterior: JointDensity, reference_size: int, seed: int):
    """The reference subset's densities and each point's position in it (−1 if absent)."""
    num_points = posterior.batch_shape[0]
    gen = torch.Generator().manual_seed(int(seed))
    num_ref = min(int(reference_size), num_points)
    ref_idx = torch.randperm(num_points, generator=gen)[:num_ref]
    ref_pos = torch.full((num_points,), -1, dtype=torch.long)
    ref_pos[ref_idx] = torch.arange(num_ref)
    return posterior.rows(ref_idx), ref_pos


def _terms_of_chunk(posterior, ref, ref_pos, n, z, num_points):
    """Per-sample MI, TC and per-dimension dwKL integrands (without log p) of one chunk."""
    num_ref = ref.batch_shape[0]
    own = posterior.rows(n).log_prob(z)  # (c, D)
    block = ref.log_prob(z[:, None, :])  # (c, R, D): log q(z_cd | x_r)
    block.masked_fill_(torch.isnan(block), -math.inf)  # outside a bounded support: density 0
    rows = torch.nonzero(ref_pos[n] >= 0).squeeze(1)
    block[rows, ref_pos[n[rows]]] = -math.inf  # a point is not its own reference
    count = num_ref - (ref_pos[n] >= 0).to(torch.float64)
    log_m = math.log(num_points)
    log_w = math.log(num_points - 1) - log_m - torch.log(count)  # (c,)
    log_qz = torch.logaddexp(own.sum(-1) - log_m, torch.logsumexp(block.sum(-1), dim=1) + log_w)
    log_qzj = torch.logaddexp(own - log_m, torch.logsumexp(block, dim=1) + log_w[:, None])
    return own.sum(-1) - log_qz, log_qz - log_qzj.sum(-1), log_qzj


def kl_decomposition(
    posterior: Distribution | JointDensity,
    prior: Distribution | JointDensity | None = None,
    *,
    samples_per_point: int = 1,
    reference_size: int = DEFAULT_SUBSET_SIZE,
    seed: int = 0,
    chunk_elements: int = 2**22,
    kl_samples: int = 64,
) -> dict:
    """Estimate MI, TC and dimension-wise KL of the aggregate of factorised posteriors.

    Args:
        posterior: the per-point posteriors as univariate densities of batch shape (M, D), M ≥ 2
            (e.g. ``dist.Normal(loc, scale)`` with (M, D) parameters, any torch family), or a
            :class:`~pyrodis.diagnostics.joint.JointDensity` of several sites.
        prior: the factorised prior, batch shape (D,) (same kind); None = N(0, I).
        samples_per_point: samples z ~ q(z|x_n) drawn per point (S = M · samples_per_point in all).
        reference_size: R, the size of the reference subset used to estimate log q(z) and
            log q(z_j) (see the module docstring); R ≥ M gives the exact aggregate over the M points.
        seed: seeds the reference subset and the samples.
        chunk_elements: bound on the size of the (chunk, R, D) log-density block held in memory.
        kl_samples: draws per point of the Monte-Carlo KL per dimension, used only when torch has
            no closed-form KL for the (posterior, prior) families.

    Returns:
        A dict with ``mi``, ``tc``, ``dwkl`` (floats, nats) and ``kl`` = mi + tc + dwkl (the
        Monte-Carlo KL, equal to the sum up to float rounding), ``kl_analytic`` (the average KL
        per dimension summed: closed form, or when ``kl_method`` says "monte carlo" its own
        independent estimate), ``kl_method``, standard errors ``mi_se``, ``tc_se``, ``dwkl_se``,
        ``kl_se`` (sample standard deviation / √S; they ignore the reference subset's own
        randomness), ``dwkl_per_dim`` (list of D floats), ``kl_per_dim`` (list of D floats),
        ``num_points`` M, ``num_samples`` S, ``reference_size`` R and ``estimator``.

    Reference: Chen, Li, Grosse & Duvenaud (2018), "Isolating Sources of Disentanglement in
    Variational Autoencoders", NeurIPS.
    """
    posterior = as_joint(posterior)
    prior = standard_normal(posterior) if prior is None else as_joint(prior)
    _check(posterior, prior, reference_size, samples_per_point)
    num_points, dim = posterior.batch_shape

    ref, ref_pos = _reference(posterior, reference_size, seed)
    num_ref = ref.batch_shape[0]
    points = torch.arange(num_points).repeat(samples_per_point)
    drawn = posterior.rows(points)
    z_all = drawn.sample(seed=int(seed))

    chunk = max(1, chunk_elements // (num_ref * dim))
    per_sample = {"mi": [], "tc": [], "dwkl": []}
    for start in range(0, points.shape[0], chunk):
        n, z = points[start : start + chunk], z_all[start : start + chunk]
        mi, tc, log_qzj = _terms_of_chunk(posterior, ref, ref_pos, n, z, num_points)
        per_sample["mi"].append(mi)
        per_sample["tc"].append(tc)
        per_sample["dwkl"].append(log_qzj - prior.log_prob(z))
    kl_dims = kl_per_dim(posterior, prior, num_samples=kl_samples, seed=seed)
    return _summary(per_sample, kl_dims, num_points, num_ref, samples_per_point)


def _summary(per_sample, kl_dims, num_points, num_ref, samples_per_point) -> dict:
    mi = torch.cat(per_sample["mi"])
    tc = torch.cat(per_sample["tc"])
    dwkl_dims = torch.cat(per_sample["dwkl"])
    dwkl = dwkl_dims.sum(-1)
    kl = mi + tc + dwkl
    root_s = math.sqrt(kl.shape[0])
    out = {name: float(v.mean()) for name, v in (("mi", mi), ("tc", tc), ("dwkl", dwkl))}
    out["kl"] = out["mi"] + out["tc"] + out["dwkl"]
    out.update({f"{k}_se": float(v.std() / root_s) for k, v in (("mi", mi), ("tc", tc))})
    out["dwkl_se"] = float(dwkl.std() / root_s)
    out["kl_se"] = float(kl.std() / root_s)
    out["kl_analytic"] = float(kl_dims.kl.sum())
    out["kl_method"] = kl_dims.method
    out["dwkl_per_dim"] = dwkl_dims.mean(0).tolist()
    out["kl_per_dim"] = kl_dims.kl.tolist()
    out["num_points"] = num_points
    out["num_samples"] = int(kl.shape[0])
    out["reference_size"] = num_ref
    out["estimator"] = (
        f"reference subset: own term exact + {num_ref} reference points "
        f"(exact when R = M), {samples_per_point} sample(s) per point"
    )
    return out
