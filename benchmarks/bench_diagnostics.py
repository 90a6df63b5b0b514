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
import statistics
import time

from pyrodis.openmp import set_passive_wait

set_passive_wait()  # before torch is imported: it loads the OpenMP runtime

import torch  # noqa: E402

from pyrodis.data.dsprites import DSprites  # noqa: E402
from pyrodis.diagnostics import AggregatePosterior  # noqa: E402
from pyrodis.diagnostics.decomposition import DEFAULT_SUBSET_SIZE  # noqa: E402
from pyrodis.models import VAE  # noqa: E402


def time_once(vae, dataset, num_points: int, reference_size: int) -> dict[str, float]:
    """Wall and CPU (process) seconds of building the aggregate posterior and decomposing it."""
    wall, cpu = time.perf_counter(), time.process_time()
    agg = AggregatePosterior.from_guide(vae.guide, dataset, num_points=num_points, batch_size=512)
    wall_built, cpu_built = time.perf_counter(), time.process_time()
    terms = agg.decomposition(reference_size=reference_size)
    wall_done, cpu_done = time.perf_counter(), time.process_time()
    assert abs(terms["mi"] + terms["tc"] + terms["dwkl"] - terms["kl"]) < 1e-8
    return {
        "build": wall_built - wall,
        "decomp": wall_done - wall_built,
        "build_cpu": cpu_built - cpu,
        "decomp_cpu": cpu_done - cpu_built,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--reference-size", type=int, default=DEFAULT_SUBSET_SIZE)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    vae = VAE(latent_dim=10, image_shape=(1, 64, 64), architecture="locatello").eval()
    dataset = DSprites()
    time_once(vae, dataset, 1_000, args.reference_size)  # warm-up
    runs = {n: [] for n in args.sizes}
    for _ in range(args.repeats):
        for n in args.sizes:
            runs[n].append(time_once(vae, dataset, n, args.reference_size))
    med = {n: {k: statistics.median(r[k] for r in runs[n]) for k in runs[n][0]} for n in runs}
    print(
        f"dSprites (procedural), VAE(locatello, D=10, untrained), reference_size="
        f"{args.reference_size}, threads={args.threads}, medians of {args.repeats}; "
        "wall seconds (CPU seconds)"
    )
    print(f"{'points':>8} {'build':>16} {'decomposition':>16} {'total':>16} {'us/point':>9}")
    for n in args.sizes:
        m = med[n]
        total, total_cpu = m["build"] + m["decomp"], m["build_cpu"] + m["decomp_cpu"]
        cols = [(m["build"], m["build_cpu"]), (m["decomp"], m["decomp_cpu"]), (total, total_cpu)]
        text = " ".join(f"{w:>7.2f} ({c:>6.2f})" for w, c in cols)
        print(f"{n:>8} {text} {1e6 * total / n:>9.1f}")
    first = args.sizes[0]
    for n in args.sizes[1:]:
        ratios = ", ".join(
            f"{k} {med[n][k] / med[first][k]:.2f}x"
            for k in ("build", "decomp", "build_cpu", "decomp_cpu")
        )
        print(f"ratio {n}/{first} ({n / first:.0f}x points): {ratios}")


if __name__ == "__main__":
    main()
