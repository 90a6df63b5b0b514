"""SVI step time of each pyrodis ELBO against a hand-written PyTorch step of the same loss.

Model: the Locatello 64×64 conv VAE (Bernoulli, 10 latents), batch 64 (``--batch``), N = 737,280.
For every ELBO three ways of taking one training step are timed, interleaved round by round so
that background load hits them alike, and their medians compared:

- ``hand``: plain PyTorch: encoder, rsample, decoder, the same loss written out, torch Adam
  (FactorVAE: plus the discriminator update);
- ``svi``: ``pyro.infer.SVI(vae.model, vae.guide, pyro.optim.Adam, loss=ELBO)``;
- ``diff``: ``elbo.differentiable_loss`` + ``torch.optim.Adam`` + ``elbo.end_step()``.

Pyro's own ``Trace_ELBO`` and ``JitTrace_ELBO`` under SVI are timed beside them for reference.
A second table gives the TC estimator's share of a TCELBO step (MSS, forward + backward of
``pairwise_log_density`` + ``minibatch_stratified_log_qz`` over a full step) at several batches.

Usage::

    OMP_WAIT_POLICY=PASSIVE python benchmarks/bench_elbo.py [--quick] [--threads 2]
"""

from __future__ import annotations

import argparse
import copy
import os
import statistics
import time

from pyrodis.openmp import set_passive_wait

set_passive_wait()  # before torch is imported: it loads the OpenMP runtime

import pyro  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from pyro.infer import SVI, JitTrace_ELBO, Trace_ELBO  # noqa: E402
from pyro.optim import Adam  # noqa: E402
from torch.distributions import Normal  # noqa: E402

from pyrodis.inference import (  # noqa: E402
    DIPELBO,
    TCELBO,
    BetaELBO,
    CapacityELBO,
    Discriminator,
    FactorELBO,
    dip_covariance,
    minibatch_stratified_log_qz,
    pairwise_log_density,
    permute_dims,
)
from pyrodis.inference.discriminator import PAPER_HIDDEN_SIZES  # noqa: E402
from pyrodis.models import VAE  # noqa: E402

N_DATA = 737_280
LR = 1e-4


def make_elbos(disc_hidden=PAPER_HIDDEN_SIZES):
    return {
        "beta": BetaELBO(beta=4.0),
        "capacity": CapacityELBO(gamma=1000.0, capacity_max=25.0, anneal_steps=100_000),
        "tc": TCELBO(beta=6.0, estimator="mss"),
        "factor": FactorELBO(gamma=6.4, hidden_sizes=disc_hidden),
        "dip": DIPELBO(lambda_od=10.0, kind="i"),
    }


class HandStep:
    """The same losses written out in PyTorch, on a private copy of the networks."""

    def __init__(self, vae: VAE, name: str, elbo):
        self.enc = copy.deepcopy(vae.encoder)
        self.dec = copy.deepcopy(vae.decoder)
        params = list(self.enc.parameters()) + list(self.dec.parameters())
        self.optim = torch.optim.Adam(params, lr=LR)
        self.name, self.elbo, self.steps = name, elbo, 0
        if name == "factor":
            self.disc = Discriminator(vae.latent_dim, elbo.hidden_sizes)
            self.disc_optim = torch.optim.Adam(self.disc.parameters(), lr=1e-4, betas=(0.5, 0.9))

    def __call__(self, x: torch.Tensor) -> float:
        batch = x.shape[0]
        scale = N_DATA / batch
        self.optim.zero_grad()
        loc, sd = self.enc(x)
        q = Normal(loc, sd)
        z = q.rsample()
        recon = F.binary_cross_entropy_with_logits(self.dec(z), x, reduction="none").sum((1, 2, 3))
        log_q = q.log_prob(z).sum(-1)
        log_p = Normal(0.0, 1.0).log_prob(z).sum(-1)
        kl = log_q - log_p
        e, name = self.elbo, self.name
        if name == "beta":
            latent = scale * (e.beta * kl).sum()
        elif name == "capacity":
            c = e.capacity_max * min(1.0, self.steps / e.anneal_steps)
            latent = e.gamma * N_DATA * (kl.mean() - c).abs()
        elif name == "tc":
            log_qz, log_prod = minibatch_stratified_log_qz(pairwise_log_density(q, z), N_DATA)
            per = e.alpha * (log_q - log_qz) + e.beta * (log_qz - log_prod)
            latent = scale * (per + e.gamma * (log_prod - log_p)).sum()
        elif name == "factor":
            for p in self.disc.parameters():
                p.requires_grad_(False)
            logits = self.disc(z)
            for p in self.disc.parameters():
                p.requires_grad_(True)
            latent = scale * (kl + e.gamma * (logits[:, 0] - logits[:, 1])).sum()
        else:  # dip
            cov = dip_covariance(loc, sd**2, e.kind)
            diag = torch.diagonal(cov)
            pen = e.lambda_od * ((cov**2).sum() - (diag**2).sum())
            latent = scale * kl.sum() + N_DATA * (pen + e.lambda_d * ((diag - 1) ** 2).sum())
        loss = scale * recon.sum() + latent
        loss.backward()
        if name == "factor":
            zd = z.detach()
            half = batch // 2
            a, b = zd[:half], zd[half : 2 * half]
            labels = torch.cat([torch.zeros(half), torch.ones(half)]).long()
            d_loss = F.cross_entropy(self.disc(torch.cat([a, permute_dims(b)])), labels)
            self.disc_optim.zero_grad()
            d_loss.backward()
            self.disc_optim.step()
        self.optim.step()
        self.steps += 1
        return loss.item()


class DiffStep:
    """``differentiable_loss`` + torch Adam + ``end_step``."""

    def __init__(self, vae: VAE, elbo):
        self.vae, self.elbo = vae, elbo
        self.optim = torch.optim.Adam(vae.parameters(), lr=LR)

    def __call__(self, x, idx):
        self.optim.zero_grad()
        loss = self.elbo.differentiable_loss(self.vae.model, self.vae.guide, x, idx)
        loss.backward()
        self.optim.step()
        self.elbo.end_step()
        return loss.item()


def build_variants(batch: int, disc_hidden=PAPER_HIDDEN_SIZES, **vae_kwargs):
    pyro.clear_param_store()
    torch.manual_seed(0)
    vae = VAE(latent_dim=10, num_data=N_DATA, **vae_kwargs)
    diff_vae = VAE(latent_dim=10, num_data=N_DATA, **vae_kwargs)
    diff_vae.load_state_dict(vae.state_dict())
    variants = {}
    for name, elbo in make_elbos(disc_hidden).items():
        variants[f"{name}/hand"] = ("hand", HandStep(vae, name, elbo))
        svi = SVI(vae.model, vae.guide, Adam({"lr": LR}), loss=elbo)
        variants[f"{name}/svi"] = ("svi", svi.step)
        variants[f"{name}/diff"] = ("svi", DiffStep(diff_vae, make_elbos(disc_hidden)[name]))
    for label, elbo in (("Trace_ELBO", Trace_ELBO()), ("JitTrace_ELBO", JitTrace_ELBO())):
        svi = SVI(vae.model, vae.guide, Adam({"lr": LR}), loss=elbo)
        variants[f"pyro {label}/svi"] = ("svi", svi.step)
    return variants


def time_variants(variants, x, idx, sweeps: int, warmup: int = 2):
    """One step of every variant per sweep (finest interleaving); per-step times."""
    times = {k: [] for k in variants}
    for kind, fn in variants.values():  # warm up (JIT compile, allocator, discriminator build)
        for _ in range(warmup):
            fn(x) if kind == "hand" else fn(x, idx)
    for _ in range(sweeps):
        for key, (kind, fn) in variants.items():
            start = time.perf_counter()
            fn(x) if kind == "hand" else fn(x, idx)
            times[key].append(time.perf_counter() - start)
    return times


def ratio(times, key, ref):
    """Median of per-sweep ratios (adjacent steps share the background load)."""
    return statistics.median(a / b for a, b in zip(times[key], times[ref]))


def tc_share(batches, steps: int):
    """Median TCELBO SVI step time and median time of the MSS estimator (fwd+bwd) per batch."""
    rows = []
    for batch in batches:
        pyro.clear_param_store()
        torch.manual_seed(0)
        vae = VAE(latent_dim=10, image_shape=(1, 64, 64), num_data=N_DATA)
        svi = SVI(vae.model, vae.guide, Adam({"lr": LR}), loss=TCELBO(beta=6.0))
        x = (torch.rand(batch, 1, 64, 64) > 0.5).float()
        idx = torch.randperm(N_DATA)[:batch]
        loc = torch.randn(batch, 10, requires_grad=True)
        sd = torch.rand(batch, 10) + 0.5

        def estimator(loc=loc, sd=sd):
            q = Normal(loc, sd)
            z = q.rsample()
            log_qz, log_prod = minibatch_stratified_log_qz(pairwise_log_density(q, z), N_DATA)
            (log_qz - log_prod).sum().backward()

        step_times, est_times = [], []
        svi.step(x, idx)
        estimator()
        for _ in range(steps):
            start = time.perf_counter()
            svi.step(x, idx)
            step_times.append(time.perf_counter() - start)
            start = time.perf_counter()
            estimator()
            est_times.append(time.perf_counter() - start)
        step, est = statistics.median(step_times), statistics.median(est_times)
        rows.append((batch, step, est, est / step))
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer sweeps and batches")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--sweeps", type=int, default=None, help="steps per variant")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    sweeps = args.sweeps or (10 if args.quick else 40)
    print(
        f"torch {torch.__version__}, pyro {pyro.__version__}, threads {args.threads}, "
        f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY')}, batch {args.batch}, "
        f"{sweeps} sweeps (one step of every variant per sweep, interleaved)"
    )
    variants = build_variants(args.batch, image_shape=(1, 64, 64))
    x = (torch.rand(args.batch, 1, 64, 64) > 0.5).float()
    idx = torch.randperm(N_DATA)[: args.batch]
    times = time_variants(variants, x, idx, sweeps)
    print("\n64x64 Locatello conv VAE, batch", args.batch)
    print_table(times)
    overhead_table(args.batch, 10 * sweeps)
    steps = 3 if args.quick else 5
    batches = (64, 128) if args.quick else (64, 128, 256, 512)
    print("\n| batch | TCELBO SVI step (ms) | MSS estimator fwd+bwd (ms) | share |")
    print("|---|---|---|---|")
    for batch, step, est, share in tc_share(batches, steps):
        print(f"| {batch} | {step * 1e3:.1f} | {est * 1e3:.2f} | {100 * share:.1f}% |")


def overhead_table(batch: int, sweeps: int) -> None:
    """The same comparison on a tiny MLP VAE (8x8 images, FactorVAE discriminator 16-16): what is
    left is the per-step overhead of each way of stepping."""
    variants = build_variants(
        batch, (16, 16), image_shape=(1, 8, 8), architecture="mlp", hidden=(16,)
    )
    x = (torch.rand(batch, 1, 8, 8) > 0.5).float()
    idx = torch.randperm(N_DATA)[:batch]
    times = time_variants(variants, x, idx, sweeps)
    print(
        f"\nper-step overhead: tiny MLP VAE (8x8, hidden 16; discriminator 16-16), batch {batch}, "
        f"{sweeps} sweeps"
    )
    print_table(times, overhead=True)


def print_table(times, overhead: bool = False) -> None:
    med = {k: statistics.median(v) * 1e3 for k, v in times.items()}
    print("median step (ms); ratios: medians of per-sweep ratios to the hand-written step")
    if overhead:
        print("| ELBO | hand-written | SVI - hand (ms) | diff+Adam - hand (ms) |")
        print("|---|---|---|---|")
        for name in make_elbos():
            hand = med[f"{name}/hand"]
            svi, diff = med[f"{name}/svi"] - hand, med[f"{name}/diff"] - hand
            print(f"| {name} | {hand:.2f} | {svi:.2f} | {diff:.2f} |")
        for label in ("Trace_ELBO", "JitTrace_ELBO"):
            extra = med[f"pyro {label}/svi"] - med["beta/hand"]
            print(f"| pyro {label} (vs beta hand) | {med['beta/hand']:.2f} | {extra:.2f} | |")
        return
    print("| ELBO | hand-written | SVI | SVI / hand | diff+Adam | diff / hand |")
    print("|---|---|---|---|---|---|")
    for name in make_elbos():
        hand = f"{name}/hand"
        print(
            f"| {name} | {med[hand]:.1f} | {med[f'{name}/svi']:.1f} | "
            f"{ratio(times, f'{name}/svi', hand):.3f} | {med[f'{name}/diff']:.1f} | "
            f"{ratio(times, f'{name}/diff', hand):.3f} |"
        )
    for label in ("Trace_ELBO", "JitTrace_ELBO"):
        key = f"pyro {label}/svi"
        print(
            f"| pyro {label} (vs beta hand) | {med['beta/hand']:.1f} | {med[key]:.1f} | "
            f"{ratio(times, key, 'beta/hand'):.3f} | | |"
        )


if __name__ == "__main__":
    main()
