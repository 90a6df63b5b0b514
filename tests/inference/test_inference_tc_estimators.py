"""TC estimators: the MSS weight matrix, unbiasedness/consistency against an exact q(z), MWS."""

import itertools
import math

import pytest
import torch
from torch.distributions import Normal

from pyrodis.inference.tc_estimators import (
    log_aggregate_posterior,
    minibatch_stratified_log_qz,
    minibatch_weighted_log_qz,
    mss_log_weight_matrix,
    pairwise_log_density,
    permute_dims,
)


def _dataset(n, d, seed=0):
    g = torch.Generator().manual_seed(seed)
    locs = torch.randn(n, d, generator=g, dtype=torch.float64)
    scales = 0.4 + 0.4 * torch.rand(n, d, generator=g, dtype=torch.float64)
    return locs, scales


def _exact_log_qz(z, locs, scales):
    """log (1/N) Σ_n q(z|x_n) and Σ_d log (1/N) Σ_n q(z_d|x_n) by enumerating the dataset."""
    pair = Normal(locs, scales).log_prob(z.unsqueeze(1))  # (B, N, D)
    log_n = math.log(locs.shape[0])
    joint = torch.logsumexp(pair.sum(-1), dim=1) - log_n
    marginals = (torch.logsumexp(pair, dim=1) - log_n).sum(-1)
    return joint, marginals


def _batch_pairs(z, locs, scales, idx):
    return pairwise_log_density(Normal(locs[idx], scales[idx]), z)


@pytest.mark.parametrize("batch,n", [(2, 10), (3, 3), (5, 100), (64, 1000)])
def test_mss_weight_rows_sum_to_one_with_1_over_n_on_diagonal(batch, n):
    w = mss_log_weight_matrix(batch, n, dtype=torch.float64).exp()
    torch.testing.assert_close(w.sum(1), torch.ones(batch, dtype=torch.float64))
    torch.testing.assert_close(
        torch.diagonal(w), torch.full((batch,), 1.0 / n, dtype=torch.float64)
    )
    m = batch - 1
    off = w[~torch.eye(batch, dtype=torch.bool)].reshape(batch, batch - 1)
    # one stratum weight (N-M)/(NM) per row, 1/M elsewhere
    strat = torch.isclose(off, torch.tensor((n - m) / (n * m), dtype=torch.float64))
    if (n - m) / (n * m) != 1.0 / m:
        assert (strat.sum(1) == 1).all()
    assert torch.isclose(off[~strat], torch.tensor(1.0 / m, dtype=torch.float64)).all()


def test_mss_weight_matrix_rejects_bad_sizes():
    with pytest.raises(ValueError, match="at least 2"):
        mss_log_weight_matrix(1, 10)
    with pytest.raises(ValueError, match="dataset size"):
        mss_log_weight_matrix(8, 4)


def test_pairwise_log_density_entries():
    locs, scales = _dataset(5, 3)
    z = torch.randn(5, 3, dtype=torch.float64)
    pairs = pairwise_log_density(Normal(locs, scales), z)
    assert pairs.shape == (5, 5, 3)
    torch.testing.assert_close(pairs[1, 3], Normal(locs[3], scales[3]).log_prob(z[1]))


def test_mss_is_unbiased_by_enumerating_all_batches():
    """E over batches of the MSS estimate of q(z_i) (before the log) equals the exact q(z_i)."""
    n, d, batch = 6, 2, 3
    locs, scales = _dataset(n, d)
    for i in range(n):
        z_i = locs[i] + 0.3  # a fixed point
        exact = _exact_log_qz(z_i[None], locs, scales)
        others = [j for j in range(n) if j != i]
        for position in range(batch):
            est_joint, est_marg = [], []
            for rest in itertools.permutations(others, batch - 1):
                idx = list(rest)
                idx.insert(position, i)
                z = locs[idx].clone()
                z[position] = z_i
                lq, lm = minibatch_stratified_log_qz(_batch_pairs(z, locs, scales, idx), n)
                est_joint.append(lq[position].exp())
                # per-dimension marginals are estimated independently: check each one
                w = mss_log_weight_matrix(batch, n, dtype=torch.float64)
                pair = _batch_pairs(z, locs, scales, idx)
                est_marg.append(torch.logsumexp(w[position, :, None] + pair[position], 0).exp())
            torch.testing.assert_close(torch.stack(est_joint).mean(), exact[0][0].exp())
            exact_dims = torch.logsumexp(
                Normal(locs, scales).log_prob(z_i) - math.log(n), dim=0
            ).exp()
            torch.testing.assert_close(torch.stack(est_marg).mean(0), exact_dims)


def test_mss_averaged_over_random_batches_matches_exact_q():
    n, d, batch, trials = 40, 3, 6, 4000
    locs, scales = _dataset(n, d, seed=1)
    g = torch.Generator().manual_seed(2)
    i = 7
    z_i = locs[i] + 0.2
    exact = _exact_log_qz(z_i[None], locs, scales)[0][0].exp()
    total = 0.0
    for _ in range(trials):
        others = torch.randperm(n - 1, generator=g)[: batch - 1]
        others = others + (others >= i).long()
        idx = torch.cat([torch.tensor([i]), others])
        z = torch.cat([z_i[None], locs[others]])
        total += minibatch_stratified_log_qz(_batch_pairs(z, locs, scales, idx), n)[0][0].exp()
    assert abs(total / trials / exact - 1) < 0.05


def _mean_abs_error(estimator, n, batch, repeats, locs, scales, offset=0.0):
    g = torch.Generator().manual_seed(3)
    errors = []
    for _ in range(repeats):
        idx = torch.randperm(n, generator=g)[:batch]
        z = Normal(locs[idx], scales[idx]).sample()
        lq, lm = log_aggregate_posterior(_batch_pairs(z, locs, scales, idx), n, estimator)
        eq, em = _exact_log_qz(z, locs, scales)
        errors.append((lq + offset - eq).abs().mean())
    return float(torch.stack(errors).mean())


def test_mss_log_qz_approaches_exact_as_batch_grows():
    n, d = 256, 2
    locs, scales = _dataset(n, d, seed=4)
    errors = [_mean_abs_error("mss", n, b, 10, locs, scales) for b in (4, 32, 256)]
    assert errors[0] > errors[1] > errors[2]
    assert errors[2] < 0.02


def test_mws_keeps_log_nm_and_is_off_by_log_n_at_full_batch():
    """MWS (Chen et al.) is a lower-bound estimator: with the whole dataset as the batch it is
    exactly log q(z) − log N; plus log N it approaches the exact value as the batch grows."""
    n, d = 128, 2
    locs, scales = _dataset(n, d, seed=5)
    z = Normal(locs, scales).sample()
    pairs = _batch_pairs(z, locs, scales, torch.arange(n))
    lq, lm = minibatch_weighted_log_qz(pairs, n)
    eq, em = _exact_log_qz(z, locs, scales)
    torch.testing.assert_close(lq, eq - math.log(n))
    torch.testing.assert_close(lm, em - d * math.log(n))
    # the constant is −log(N·M), with M the batch size
    sub = pairs[:8, :8]
    lq8, _ = minibatch_weighted_log_qz(sub, n)
    torch.testing.assert_close(lq8, torch.logsumexp(sub.sum(-1), 1) - math.log(n * 8))
    errors = [
        _mean_abs_error("mws", n, b, 10, locs, scales, offset=math.log(n)) for b in (4, 32, 128)
    ]
    assert errors[0] > errors[1] > errors[2]
    assert errors[2] < 1e-6


def test_unknown_estimator():
    with pytest.raises(ValueError, match="mss"):
        log_aggregate_posterior(torch.zeros(3, 3, 2), 10, "exact")


def test_permute_dims_permutes_each_column_across_the_batch():
    z = torch.arange(200.0).reshape(50, 4) * torch.tensor([1.0, 1000.0, 1e6, 1e9])
    p = permute_dims(z, torch.Generator().manual_seed(0))
    for d in range(4):  # each column keeps its values: a permutation across rows
        assert torch.equal(p[:, d].sort().values, z[:, d].sort().values)
    # columns are permuted independently, so rows are mixed
    row_of = (p / torch.tensor([1.0, 1000.0, 1e6, 1e9]) // 4).long()
    assert (row_of != row_of[:, :1]).any(dim=1).float().mean() > 0.9
    assert p.shape == z.shape
    with pytest.raises(ValueError, match=r"\(B, D\)"):
        permute_dims(torch.zeros(3))
