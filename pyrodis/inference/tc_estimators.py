"""Minibatch estimators of the aggregate posterior q(z) = (1/N) Σ_n q(z | x_n), and permute_dims.

Chen et al. (2018), "Isolating sources of disentanglement in VAEs" (β-TCVAE), §3 and Appendix C.
For a batch of B points with guide samples z_i ~ q(z | x_i), all the estimators start from the
pairwise log densities ``L[i, j, d] = log q(z_{i,d} | x_j)`` (:func:`pairwise_log_density`) and
return, per sample i, estimates of ``log q(z_i)`` and of ``Σ_d log q(z_{i,d})``:

- minibatch weighted sampling (MWS, :func:`minibatch_weighted_log_qz`), with M = B:
  ``log q(z_i) ≈ logsumexp_j Σ_d L[i, j, d] − log(N·M)`` and per dimension likewise. This is
  Chen et al.'s estimator with its ``−log(N·M)`` constant kept (dropping it, as several ports do,
  shifts the reported TC by ``(D−1)·log(N·M)``). It is a lower-bound estimator, not a consistent
  one: even with the whole dataset in the batch it returns ``log q(z) − log N`` (see the tests).
- minibatch stratified sampling (MSS, :func:`minibatch_stratified_log_qz`), M = B − 1:
  ``log q(z_i) ≈ logsumexp_j [log w_ij + Σ_d L[i, j, d]]`` with the weights of
  :func:`mss_log_weight_matrix`. For a fixed z_i and the other B − 1 batch members drawn
  uniformly without replacement from the rest of the dataset, the estimate of q(z_i) (before
  the log) is unbiased.

Shapes: ``L`` is ``(B, B, D)``; estimates are ``(B,)``.
"""

from __future__ import annotations

import math

import torch
from torch.distributions import constraints

from pyrodis.inference.distribution_params import UnsupportedDistribution, map_params

__all__ = [
    "ESTIMATORS",
    "pairwise_log_density",
    "mss_log_weight_matrix",
    "minibatch_weighted_log_qz",
    "minibatch_stratified_log_qz",
    "log_aggregate_posterior",
    "permute_dims",
]

ESTIMATORS = {
    "mws": "minibatch weighted sampling (Chen et al. 2018, Appendix C.1; keeps -log(N*M))",
    "mss": "minibatch stratified sampling (Chen et al. 2018, Appendix C.2)",
}


def pairwise_log_density(
    per_dim: torch.distributions.Distribution, z: torch.Tensor
) -> torch.Tensor:
    """``L[i, j, d] = log q(z_{i,d} | x_j)`` for a factorised guide.

    Args:
        per_dim: the per-dimension guide densities, batch shape ``(B, D)`` (the ``base_dist`` of
            ``Normal(loc, scale).to_event(1)``).
        z: samples ``(B, D)``.

    Returns:
        ``(B, B, D)``: row i evaluates sample i under every data point j's posterior.

    Bounded supports (Beta, Kumaraswamy, Uniform, ...): where ``z_{i,d}`` lies outside, or in
    float32 on the edge of, point j's support, ``q(z_{i,d} | x_j) = 0`` and the entry is ``−inf``
    (an undefined NaN density there is read as 0 too). Its weight in every log-sum-exp is then
    zero, but its gradient through ``log_prob`` would be ``0 · ∞ = NaN``; those entries are
    therefore evaluated at a safe point (point j's own sample) and replaced by ``−inf`` with
    ``torch.where`` (the "double where"), so the gradient stays finite. A family with a bounded
    support is evaluated in float64 (a finite float32 density can have an infinite derivative on
    the edge); the result has the dtype of ``z``. The own entries
    ``L[i, i]`` are the guide's own log-densities, as in ``Trace_ELBO``.
    """
    if z.dim() != 2 or tuple(per_dim.batch_shape) != tuple(z.shape):
        raise ValueError(
            f"expected z of shape (B, D) matching the per-dimension batch shape, got z "
            f"{tuple(z.shape)} and densities {tuple(per_dim.batch_shape)}"
        )
    dtype = z.dtype
    bounded = _bounded(per_dim)
    if bounded:
        per_dim, z = _in_float64(per_dim, z)
    rows = z.unsqueeze(1).expand(z.shape[0], *z.shape)
    log_q = per_dim.log_prob(rows)
    if not bounded:  # a density on the whole real line is never zero: no check, no host sync
        return log_q.to(dtype)
    zero = ~(log_q > -math.inf)  # −inf or NaN: a zero density
    if bool(zero.any()):
        safe = torch.where(zero, z.unsqueeze(0).expand_as(rows), rows)
        log_q = torch.where(zero, torch.full_like(log_q, -math.inf), per_dim.log_prob(safe))
    return log_q.to(dtype)


def _bounded(per_dim: torch.distributions.Distribution) -> bool:
    """Whether the family's support is smaller than the real line (so a density can be 0)."""
    support = per_dim.support
    while isinstance(support, constraints.independent):
        support = support.base_constraint
    return support is not constraints.real


def _in_float64(per_dim: torch.distributions.Distribution, z: torch.Tensor):
    """A family with a bounded support evaluated in float64: near an edge a float32 density
    that is finite can have an infinite derivative (``1 − z^a`` rounding to a denormal)."""
    if z.dtype == torch.float64:
        return per_dim, z
    try:
        return map_params(per_dim, lambda p: p.to(torch.float64)), z.to(torch.float64)
    except UnsupportedDistribution:
        return per_dim, z


def _check_sizes(batch_size: int, dataset_size: int) -> None:
    if batch_size < 2:
        raise ValueError(f"the estimators need a batch of at least 2 samples, got {batch_size}")
    if dataset_size < batch_size:
        raise ValueError(
            f"dataset_size N={dataset_size} is smaller than the batch ({batch_size}); pass the "
            "true dataset size (the data plate's size=)"
        )


def mss_log_weight_matrix(
    batch_size: int,
    dataset_size: int,
    device: torch.device | str | None = None,
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """The log of the MSS importance weights, ``(B, B)``.

    With M = B − 1, row i holds ``w_ii = 1/N`` (sample i's own posterior), ``(N − M)/(N·M)`` in
    column ``(i + 1) mod B`` (the stratum standing for the data points outside the batch) and
    ``1/M`` in the other ``B − 2`` columns, so every row sums to 1.
    (The widely copied ``_log_importance_weight_matrix`` puts 1/N in column 0 and has a row
    summing to ≈1.23; this one does not.)
    """
    _check_sizes(batch_size, dataset_size)
    n, m = float(dataset_size), float(batch_size - 1)
    weights = torch.full((batch_size, batch_size), 1.0 / m, dtype=torch.float64)
    rows = torch.arange(batch_size)
    weights[rows, (rows + 1) % batch_size] = (n - m) / (n * m)
    weights[rows, rows] = 1.0 / n
    return weights.log().to(device=device, dtype=dtype)


def minibatch_weighted_log_qz(
    log_q_pairs: torch.Tensor, dataset_size: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """MWS estimates of ``log q(z_i)`` and ``Σ_d log q(z_{i,d})`` from ``L`` (B, B, D).

    ``logsumexp_j(·) − log(N·M)`` with M = B (Chen et al. 2018, MWS).
    """
    batch = log_q_pairs.shape[0]
    _check_sizes(batch, dataset_size)
    const = math.log(dataset_size * batch)
    log_qz = torch.logsumexp(log_q_pairs.sum(-1), dim=1) - const
    log_prod = (torch.logsumexp(log_q_pairs, dim=1) - const).sum(-1)
    return log_qz, log_prod


def minibatch_stratified_log_qz(
    log_q_pairs: torch.Tensor, dataset_size: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """MSS estimates of ``log q(z_i)`` and ``Σ_d log q(z_{i,d})`` from ``L`` (B, B, D).

    ``logsumexp_j [log w_ij + ·]`` with ``w`` from :func:`mss_log_weight_matrix`.
    """
    batch = log_q_pairs.shape[0]
    log_w = mss_log_weight_matrix(batch, dataset_size, log_q_pairs.device, log_q_pairs.dtype)
    log_qz = torch.logsumexp(log_w + log_q_pairs.sum(-1), dim=1)
    log_prod = torch.logsumexp(log_w.unsqueeze(-1) + log_q_pairs, dim=1).sum(-1)
    return log_qz, log_prod


def log_aggregate_posterior(
    log_q_pairs: torch.Tensor, dataset_size: int, estimator: str = "mss"
) -> tuple[torch.Tensor, torch.Tensor]:
    """Dispatch to the MSS (``"mss"``) or MWS (``"mws"``) estimator."""
    if estimator == "mss":
        return minibatch_stratified_log_qz(log_q_pairs, dataset_size)
    if estimator == "mws":
        return minibatch_weighted_log_qz(log_q_pairs, dataset_size)
    raise ValueError(f"unknown estimator {estimator!r}; choose 'mss' or 'mws'")


def permute_dims(z: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Permute each latent dimension independently ACROSS the batch (Kim & Mnih 2018, Alg. 1).

    Column d of the result is a random permutation of column d of ``z`` (B, D): the rows are then
    samples of Π_d q(z_d) rather than of q(z).
    """
    if z.dim() != 2:
        raise ValueError(f"permute_dims expects (B, D) samples, got shape {tuple(z.shape)}")
    keys = torch.rand(z.shape, generator=generator, device=z.device)
    return torch.gather(z, 0, keys.argsort(dim=0))
