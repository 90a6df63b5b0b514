"""Training throughput per ELBO on every available device, against a hand-written step.

For each device torch sees (the CPU, every CUDA GPU, Apple's MPS) and batch 64 and 256, each ELBO
trains the Locatello 64×64 conv VAE on procedural dSprites through ``pyrodis.training.Trainer``
(rendering, host→device transfer and the SVI step all counted), and a hand-written PyTorch step
of the β-VAE loss runs on a batch that already sits on the device. Printed: steps/s and images/s
per ELBO, the ratio of the hand-written step's time to the trainer's (1.0 = no overhead from
Pyro, the data path or pyrodis), and, on CUDA, the GPU's utilisation sampled during the run
(needs the ``pynvml`` package; "n/a" without it).

Usage::

    OMP_WAIT_POLICY=PASSIVE python benchmarks/bench_device.py [--steps 20] [--batches 64 256]
"""

from __future__ import annotations

import argparse
import time

from pyrodis.openmp import set_passive_wait

set_passive_wait()  # before torch is imported: it loads the OpenMP runtime

import pyro  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from pyrodis.data import DSprites  # noqa: E402
from pyrodis.devices import available_devices  # noqa: E402
from pyrodis.inference import DIPELBO, TCELBO, BetaELBO, FactorELBO  # noqa: E402
from pyrodis.models import VAE  # noqa: E402
from pyrodis.training import Trainer  # noqa: E402

ELBOS = {
    "beta": lambda: BetaELBO(beta=4.0),
    "tc": lambda: TCELBO(beta=6.0),
    "factor": lambda: FactorELBO(gamma=6.4),
    "dip": lambda: DIPELBO(lambda_od=10.0),
}


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _utilisation(device: torch.device) -> str:
    if device.type != "cuda":
        return "-"
    try:
        return f"{torch.cuda.utilization(device)}%"
    except Exception:  # pynvml missing or no NVML
        return "n/a"


def trainer_rate(name: str, device: torch.device, batch: int, steps: int) -> tuple[float, str]:
    pyro.clear_param_store()
    data = DSprites()
    vae = VAE(num_data=len(data), precision="32").to(device)
    trainer = Trainer(vae.model, vae.guide, ELBOS[name](), data, batch_size=batch, lr=1e-4,
                      device=device, progress=False, log_every=10**9)  # fmt: skip
    trainer.run(2)  # warm-up (kernels, optimiser state)
    _sync(device)
    start = time.perf_counter()
    trainer.run(2 + steps)
    _sync(device)
    return steps / (time.perf_counter() - start), _utilisation(device)


def hand_rate(device: torch.device, batch: int, steps: int) -> float:
    data = DSprites()
    vae = VAE(num_data=len(data)).to(device)
    opt = torch.optim.Adam(vae.parameters(), lr=1e-4)
    x = data.observations(data.sample_factors(batch, 0)).to(device)
    for i in range(steps + 2):
        if i == 2:
            _sync(device)
            start = time.perf_counter()
        loc, scale = vae.encoder(x)
        z = loc + scale * torch.randn_like(loc)
        logits = vae.decoder(z)
        recon = F.binary_cross_entropy_with_logits(logits, x, reduction="sum")
        kl = 0.5 * (loc**2 + scale**2 - 1.0 - 2.0 * scale.log()).sum()
        opt.zero_grad()
        (recon + 4.0 * kl).backward()
        opt.step()
    _sync(device)
    return steps / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--batches", type=int, nargs="+", default=[64, 256])
    parser.add_argument("--elbos", nargs="+", default=list(ELBOS))
    args = parser.parse_args()
    print(
        f"torch {torch.__version__}, threads {torch.get_num_threads()}, devices {available_devices()}"
    )
    print(
        "| device | batch | ELBO | steps/s | images/s | hand steps/s | hand ÷ trainer | GPU util |"
    )
    print("|---|---:|---|---:|---:|---:|---:|---|")
    for spec in available_devices():
        device = torch.device(spec)
        for batch in args.batches:
            hand = hand_rate(device, batch, args.steps)
            for name in args.elbos:
                rate, util = trainer_rate(name, device, batch, args.steps)
                print(f"| {spec} | {batch} | {name} | {rate:.2f} | {rate * batch:,.0f} | "
                      f"{hand:.2f} | {hand / rate:.2f} | {util} |", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
