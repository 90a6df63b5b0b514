"""Steps per second of pyrodis' Trainer (fit) against a bare ``pyro.infer.SVI`` loop.

Both train the same Locatello conv VAE with the same ELBO on procedural dSprites at batch 64;
the trainer adds deterministic batches, the LR schedule, logging, callbacks and terms. The two
alternate in blocks of ``--block`` steps (so background load hits both alike) and the median
step time of each is compared. Goal (issue 4): ratio ≤ 1.05.

    OMP_WAIT_POLICY=PASSIVE python benchmarks/bench_fit.py [--blocks 6 --block 10]
"""

import argparse
import statistics
import time

from pyrodis.openmp import set_passive_wait

set_passive_wait()  # before torch is imported: it loads the OpenMP runtime

import pyro  # noqa: E402
import torch  # noqa: E402

from pyrodis.data import DSprites, make_loader  # noqa: E402
from pyrodis.inference import TCELBO  # noqa: E402
from pyrodis.models import VAE  # noqa: E402
from pyrodis.training import Trainer  # noqa: E402
from pyrodis.training.schedules import make_schedule  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--blocks", type=int, default=6)
    parser.add_argument("--block", type=int, default=10)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    data = DSprites()

    pyro.clear_param_store()
    vae_a = VAE(num_data=len(data))
    trainer = Trainer(
        vae_a.model,
        vae_a.guide,
        TCELBO(beta=6.0),
        data,
        batch_size=64,
        lr=1e-3,
        schedule=make_schedule("cosine", total_steps=10_000, warmup_steps=100),
        log_every=5,
        progress=False,
    )
    vae_b = VAE(num_data=len(data))
    svi = pyro.infer.SVI(vae_b.model, vae_b.guide, pyro.optim.Adam({"lr": 1e-3}), TCELBO(beta=6.0))
    batches = iter(make_loader(data, batch_size=64, seed=1))

    def bare(n):
        for _ in range(n):
            x, _, idx = next(batches)
            svi.step(x, idx)

    trainer.run(3)
    bare(3)  # warm-up
    times = {"fit": [], "svi": []}
    for _ in range(args.blocks):
        t0 = time.perf_counter()
        trainer.run(trainer.step + args.block)
        times["fit"].append((time.perf_counter() - t0) / args.block)
        t0 = time.perf_counter()
        bare(args.block)
        times["svi"].append((time.perf_counter() - t0) / args.block)
    fit_ms = statistics.median(times["fit"]) * 1e3
    svi_ms = statistics.median(times["svi"]) * 1e3
    print(f"bare SVI loop : {svi_ms:7.1f} ms/step  ({1e3 / svi_ms:.2f} steps/s)")
    print(f"pyrodis fit   : {fit_ms:7.1f} ms/step  ({1e3 / fit_ms:.2f} steps/s)")
    print(f"ratio fit/SVI : {fit_ms / svi_ms:.3f}  (goal <= 1.05)")


if __name__ == "__main__":
    main()
