"""A/B check of an ELBO's SVI step against its hand-written PyTorch step, repeated in one process.

Runs β, DIP, β, DIP (30 steps of each side per block, the order flipped every step) on the
64×64 Locatello VAE at batch 64, to show how far the SVI/hand ratio moves between identical
repeats on this machine (the hand-written steps are those of ``bench_elbo.py``).

    OMP_WAIT_POLICY=PASSIVE python benchmarks/ab_svi_vs_hand.py
"""

import statistics
import sys
import time
from pathlib import Path

from pyrodis.openmp import set_passive_wait

set_passive_wait()  # before torch is imported: it loads the OpenMP runtime
sys.path.insert(0, str(Path(__file__).parent))

import pyro  # noqa: E402
import torch  # noqa: E402
from bench_elbo import N_DATA, HandStep  # noqa: E402

from pyrodis.data import DSprites  # noqa: E402
from pyrodis.inference import DIPELBO, BetaELBO  # noqa: E402
from pyrodis.models import VAE  # noqa: E402


def ab(name: str, elbo, x: torch.Tensor, idx: torch.Tensor, steps: int = 30) -> None:
    pyro.clear_param_store()
    vae = VAE(num_data=N_DATA)
    hand = HandStep(vae, name, elbo)
    svi = pyro.infer.SVI(vae.model, vae.guide, pyro.optim.Adam({"lr": 1e-4}), loss=elbo)
    for _ in range(3):
        hand(x)
        svi.step(x, idx)
    times = {"hand": [], "svi": []}
    for i in range(steps):
        for side in ("hand", "svi") if i % 2 == 0 else ("svi", "hand"):
            start = time.perf_counter()
            hand(x) if side == "hand" else svi.step(x, idx)
            times[side].append(time.perf_counter() - start)
    h, s = (statistics.median(times[k]) * 1e3 for k in ("hand", "svi"))
    print(f"{name:5s} hand {h:6.1f} ms  svi {s:6.1f} ms  ratio {s / h:.3f}")


def main() -> None:
    torch.set_num_threads(2)
    data = DSprites()
    x = data.observations(data.sample_factors(64, 0))
    idx = torch.arange(64)
    for _ in range(2):
        ab("beta", BetaELBO(beta=4.0), x, idx)
        ab("dip", DIPELBO(lambda_od=10.0, kind="i"), x, idx)


if __name__ == "__main__":
    main()
