"""Time to build the aggregate posterior of a dSprites VAE and decompose its KL, at 10k and 100k
points: both must grow linearly in the points used.

Uses the real ``pyrodis.models.VAE`` (Locatello conv encoder, 10 latents, untrained: the cost
does not depend on the weights) and the procedural ``pyrodis.data.DSprites``.  The two sizes are
run alternately ``--repeats`` times and the medians reported, so load on the shared machine hits
both alike.

    OMP_WAIT_POLICY=PASSIVE python benchmarks/bench_diagnostics.py
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import torch  # noqa: E402

from pyrodis.data.dsprites import DSprites  # noqa: E402
from pyrodis.diagnostics import AggregatePosterior  # noqa: E402
from pyrodis.diagnostics.decomposition import DEFAULT_REFERENCE_SIZE  # noqa: E402
from pyrodis.models import VAE  # noqa: E402


def time_once(vae, dataset, num_points: int, reference_size: int) -> tuple[float, float]:
    start = time.perf_counter()
    agg = AggregatePosterior.from_guide(vae.guide, dataset, num_points=num_points, batch_size=512)
    built = time.perf_counter()
    terms = agg.decomposition(reference_size=reference_size)
    done = time.perf_counter()
    assert abs(terms["mi"] + terms["tc"] + terms["dwkl"] - terms["kl"]) < 1e-8
    return built - start, done - built


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--reference-size", type=int, default=DEFAULT_REFERENCE_SIZE)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    vae = VAE(latent_dim=10, image_shape=(1, 64, 64), architecture="locatello").eval()
    dataset = DSprites()
    time_once(vae, dataset, 1_000, args.reference_size)  # warm-up
    times = {n: ([], []) for n in args.sizes}
    for _ in range(args.repeats):
        for n in args.sizes:
            build, decomp = time_once(vae, dataset, n, args.reference_size)
            times[n][0].append(build)
            times[n][1].append(decomp)
    print(
        f"dSprites, VAE(locatello, D=10), reference_size={args.reference_size}, "
        f"threads={args.threads}, medians of {args.repeats}"
    )
    print(f"{'points':>8} {'build s':>9} {'decomp s':>9} {'total s':>9} {'us/point':>9}")
    base = None
    for n in args.sizes:
        build, decomp = (statistics.median(t) for t in times[n])
        total = build + decomp
        base = base or (n, build, decomp, total)
        print(f"{n:>8} {build:>9.2f} {decomp:>9.2f} {total:>9.2f} {1e6 * total / n:>9.1f}")
    for n in args.sizes[1:]:
        build, decomp = (statistics.median(t) for t in times[n])
        scale = n / base[0]
        print(
            f"ratio {n}/{base[0]} ({scale:.0f}x points): build {build / base[1]:.2f}x, "
            f"decomposition {decomp / base[2]:.2f}x, total {(build + decomp) / base[3]:.2f}x"
        )


if __name__ == "__main__":
    main()
