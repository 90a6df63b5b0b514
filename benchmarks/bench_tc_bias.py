"""How much the batch biases the β-TCVAE terms: MWS and MSS at batch 64 … 4,096, the bank
estimator (fresh parameters) at K references, and the diagnostics' reference estimate, against
the exact value (synthetic) or a converged one (a trained run).

``synthetic``: N points with posteriors q(z|x_n) = N(μ_n, s²·I), the μ_n drawn from a correlated
Gaussian; one sample z_n ~ q(z|x_n) per point, and the exact log q(z_n) and log q(z_{n,d}) by
summing all N components (MI, TC and dwKL are then exact up to the Monte-Carlo error of one
sample per point, printed as ±SE). A sharp encoder (s = 0.05) and a broad one (s = 0.5).

``run``: checkpoints of a trained run (``pyrodis train --out RUN``): encodes ``--points`` images
(the sample points, one z each) and ``--refs`` other images (the references of the bank
estimator), and gives MWS/MSS with the dataset's N at each batch size, the bank estimator with K
of the references (its value converges as K grows: the converged value), and
:func:`pyrodis.diagnostics.kl_decomposition` on the sample points (the aggregate over those M
points, as ``pyrodis report`` shows it: a different quantity, MI ≤ log M).

    nice -n 10 python benchmarks/bench_tc_bias.py synthetic
    nice -n 10 python benchmarks/bench_tc_bias.py run /tmp/tcq --steps 500 1000 1500
"""

from __future__ import annotations

import argparse
import math
import os
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import torch  # noqa: E402
from torch.distributions import Normal  # noqa: E402

from pyrodis.diagnostics import kl_decomposition  # noqa: E402
from pyrodis.inference.tc_estimators import (  # noqa: E402
    log_aggregate_posterior,
    mss_log_weight_matrix,
    pairwise_log_density,
)
from pyrodis.inference.tc_reference_bank import bank_log_qz  # noqa: E402

BATCHES = (64, 256, 1024, 4096)
ROWS = 256  # rows of a (rows, B, D) block evaluated at once


def _terms(log_q, log_qz, log_prod, log_p) -> dict[str, float]:
    mi, tc, dwkl = log_q - log_qz, log_qz - log_prod, log_prod - log_p
    out = {k: float(v.mean()) for k, v in (("mi", mi), ("tc", tc), ("dwkl", dwkl))}
    out["kl"] = out["mi"] + out["tc"] + out["dwkl"]
    out["tc_se"] = float(tc.std() / math.sqrt(len(tc)))
    return out


def _batch_log_qz(loc, scale, z, n, estimator):
    """The library's MWS/MSS on one batch; row blocks for large B (the same per-row formula)."""
    batch, dim = z.shape
    if batch * batch * dim <= 2**22:
        return log_aggregate_posterior(pairwise_log_density(Normal(loc, scale), z), n, estimator)
    if estimator == "mss":
        log_w = mss_log_weight_matrix(batch, n, dtype=z.dtype)
    else:
        log_w = z.new_full((batch, batch), -math.log(n * batch))
    qz, prod = [], []
    for r in range(0, batch, ROWS):
        pairs = Normal(loc, scale).log_prob(z[r : r + ROWS].unsqueeze(1))  # (rows, B, D)
        qz.append(torch.logsumexp(log_w[r : r + ROWS] + pairs.sum(-1), 1))
        prod.append(torch.logsumexp(log_w[r : r + ROWS].unsqueeze(-1) + pairs, 1).sum(-1))
    return torch.cat(qz), torch.cat(prod)


def batch_estimate(loc, scale, z, n, batch, estimator, seed=0) -> dict[str, float]:
    """MWS or MSS over the points split at random into full batches of ``batch``."""
    perm = torch.randperm(len(z), generator=torch.Generator().manual_seed(seed))
    perm = perm[: len(z) // batch * batch]
    parts = [[], [], []]
    for idx in perm.split(batch):
        log_qz, log_prod = _batch_log_qz(loc[idx], scale[idx], z[idx], n, estimator)
        parts[0].append(idx), parts[1].append(log_qz), parts[2].append(log_prod)
    idx, log_qz, log_prod = (torch.cat(p) for p in parts)
    log_q = Normal(loc[idx], scale[idx]).log_prob(z[idx]).sum(-1)
    return _terms(log_q, log_qz, log_prod, Normal(0.0, 1.0).log_prob(z[idx]).sum(-1))


def bank_estimate(loc, scale, z, n, ref_loc, ref_scale, batch=64) -> dict[str, float]:
    """The bank estimator as training computes it with a full bank of fresh parameters: each
    batch of ``batch`` sample points against the references (``bank_log_qz``)."""
    log_qz, log_prod = _bank_log_qz(loc, scale, z, n, lambda idx: (ref_loc, ref_scale), batch)
    log_q = Normal(loc, scale).log_prob(z).sum(-1)
    return _terms(log_q, log_qz, log_prod, Normal(0.0, 1.0).log_prob(z).sum(-1))


def _bank_log_qz(loc, scale, z, n, refs_of, batch):
    """``bank_log_qz`` over batches; ``refs_of(idx)`` gives the references of batch ``idx``."""
    qz, prod = [], []
    for idx in torch.arange(len(z)).split(batch):
        bank = Normal(*refs_of(idx))
        lb = pairwise_log_density(Normal(loc[idx], scale[idx]), z[idx])
        lk = torch.cat([bank.log_prob(z[r].unsqueeze(1)) for r in idx.split(8)])
        log_qz, log_prod = bank_log_qz(lb, lk, n)
        qz.append(log_qz), prod.append(log_prod)
    return torch.cat(qz), torch.cat(prod)


def exact(loc, scale, z) -> dict[str, float]:
    """log q(z) = logsumexp over all N components − log N (and per dimension)."""
    n, qz, prod = len(loc), [], []
    for r in range(0, len(z), ROWS):
        pairs = Normal(loc, scale).log_prob(z[r : r + ROWS].unsqueeze(1))
        qz.append(torch.logsumexp(pairs.sum(-1), 1) - math.log(n))
        prod.append((torch.logsumexp(pairs, 1) - math.log(n)).sum(-1))
    log_q = Normal(loc, scale).log_prob(z).sum(-1)
    return _terms(log_q, torch.cat(qz), torch.cat(prod), Normal(0.0, 1.0).log_prob(z).sum(-1))


def _row(label: str, t: dict[str, float]) -> str:
    return (
        f"| {label} | {t['mi']:.2f} | {t['tc']:+.2f} ± {t['tc_se']:.2f} | {t['dwkl']:.2f} | "
        f"{t['kl']:.2f} |"
    )


def _header(title: str) -> None:
    print(f"\n{title}\n\n| estimate | MI | TC (± SE) | dwKL | KL |\n|---|---|---|---|---|")


def _decomposition_row(label, loc, scale, refs, seed) -> str:
    return _row(label, kl_decomposition(Normal(loc, scale), reference_size=refs, seed=seed + 1))


def synthetic(num_points: int, dim: int, seed: int) -> None:
    g = torch.Generator().manual_seed(seed)
    corr = 0.6 * torch.ones(dim, dim, dtype=torch.float64) + 0.4 * torch.eye(
        dim, dtype=torch.float64
    )
    mu = (
        torch.randn(num_points, dim, generator=g, dtype=torch.float64)
        @ torch.linalg.cholesky(corr).T
    )
    for s in (0.05, 0.5):
        scale = torch.full_like(mu, s)
        z = mu + scale * torch.randn(mu.shape, generator=g, dtype=torch.float64)
        _header(f"synthetic: N = {num_points}, D = {dim}, correlation 0.6, encoder s = {s}")
        print(_row("**exact** (all N components)", exact(mu, scale, z)))
        for est in ("mws", "mss"):
            for b in (b for b in BATCHES if b <= len(z)):
                print(
                    _row(
                        f"{est.upper()} batch {b}", batch_estimate(mu, scale, z, num_points, b, est)
                    )
                )
        for k in (1024, 4096):
            print(_row(f"bank K={k} (batch 64)", _synthetic_bank(mu, scale, z, k, g)))
        for r in (1024, 4096, num_points):
            print(_decomposition_row(f"diagnostics R={r}", mu, scale, r, seed))


def _synthetic_bank(mu, scale, z, k, g) -> dict[str, float]:
    """Bank of K fresh entries drawn from the points outside each batch of 64."""
    n = len(mu)
    order = torch.randperm(n, generator=g)
    mu, scale, z = mu[order], scale[order], z[order]

    def refs_of(idx):
        others = torch.ones(n, dtype=torch.bool)
        others[idx] = False
        ref = torch.nonzero(others).squeeze(1)
        ref = ref[torch.randperm(len(ref), generator=g)[:k]]
        return mu[ref], scale[ref]

    log_qz, log_prod = _bank_log_qz(mu, scale, z, n, refs_of, 64)
    log_q = Normal(mu, scale).log_prob(z).sum(-1)
    return _terms(log_q, log_qz, log_prod, Normal(0.0, 1.0).log_prob(z).sum(-1))


def _encode(vae, dataset, indices) -> tuple[torch.Tensor, torch.Tensor]:
    locs, scales = [], []
    with torch.no_grad():
        for part in torch.as_tensor(indices).split(512):
            x = torch.as_tensor(dataset.observations(part.numpy())).float()
            loc, scale = vae.encode(x)
            locs.append(loc.double()), scales.append(scale.double())
    return torch.cat(locs), torch.cat(scales)


def trained(run: Path, steps: list[int], points: int, refs: int, seed: int) -> None:
    from pyrodis.data.sources import as_source
    from pyrodis.runs.build import build_dataset, build_model
    from pyrodis.runs.run_directory import RunDirectory
    from pyrodis.runs.trained_run import restore_model

    config, _ = RunDirectory(run).read_config()
    dataset = build_dataset(config, training=False)
    source = as_source(dataset)
    n = int(source.num_data)
    chosen = torch.randperm(n, generator=torch.Generator().manual_seed(seed))[: points + refs]
    for step in steps:
        vae = build_model(config, dataset)
        state = torch.load(run / "checkpoints" / f"step_{step:08d}.pt", weights_only=False)
        restore_model(vae, dataset, state["params"])
        vae.eval()
        loc, scale = _encode(vae, source, chosen.numpy())
        z = loc[:points] + scale[:points] * torch.randn(
            points, loc.shape[1], generator=torch.Generator().manual_seed(seed), dtype=loc.dtype
        )
        pl, ps = loc[:points], scale[:points]
        _header(f"{run} step {step}: {points} sample points, N = {n}")
        for est in ("mws", "mss"):
            for b in (b for b in BATCHES if b <= len(z)):
                print(_row(f"{est.upper()} batch {b}", batch_estimate(pl, ps, z, n, b, est)))
        for k in sorted({1024, 4096, refs}):
            ref = slice(points, points + k)
            print(_row(f"bank K={k} (batch 64)", bank_estimate(pl, ps, z, n, loc[ref], scale[ref])))
        print(_decomposition_row(f"diagnostics over the {points} points", pl, ps, points, seed))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="what", required=True)
    syn = sub.add_parser("synthetic")
    syn.add_argument("--points", type=int, default=8192)
    syn.add_argument("--dim", type=int, default=5)
    run = sub.add_parser("run")
    run.add_argument("run", type=Path)
    run.add_argument("--steps", type=int, nargs="+", required=True)
    run.add_argument("--points", type=int, default=4096)
    run.add_argument("--refs", type=int, default=16384)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(1)
    if args.what == "synthetic":
        synthetic(args.points, args.dim, args.seed)
    else:
        trained(args.run, args.steps, args.points, args.refs, args.seed)


if __name__ == "__main__":
    main()
