"""Rendering and loading speed of the procedural datasets, and the memory of a full pass.

Run:  OMP_WAIT_POLICY=PASSIVE python benchmarks/bench_data.py [--threads 2] [--repeats 7]

Prints images/second of procedural dSprites and Shapes3D for batches of 64 and 4096
(``observations`` on random factor batches), the same through ``make_loader`` (index →
factors → images), a per-item baseline (``ds[i]`` then ``torch.stack``) for comparison, the
ceiling set by allocating and zeroing the float32 output alone (fresh memory is page-faulted
in, which bounds large batches), and
the peak resident memory of iterating the whole of dSprites once in batches of 4096.  Variants
are interleaved and medians reported, so that load from other processes hits all alike.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from datetime import datetime, timezone

from pyrodis.openmp import set_passive_wait

set_passive_wait()  # before torch is imported: it loads the OpenMP runtime

import numpy as np  # noqa: E402
import torch  # noqa: E402

from pyrodis.data import DSprites, Shapes3D, make_loader  # noqa: E402


def rate(fn, n: int) -> float:
    start = time.perf_counter()
    fn()
    return n / (time.perf_counter() - start)


def per_item(ds, idx):
    items = [ds[int(i)] for i in idx]
    return torch.stack([im for im, _ in items])


def status_kib(field: str) -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


def full_pass_memory(ds, batch_size: int) -> tuple[float, float, float]:
    """(seconds, RSS before in MiB, peak RSS during in MiB) of one pass over the whole dataset."""
    loader = make_loader(ds, batch_size=batch_size, shuffle=False, drop_last=False)
    next(iter(loader))  # warm caches and allocator
    before = status_kib("VmRSS")
    try:  # reset the peak (VmHWM) to the current RSS; Linux >= 4.0
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
    except OSError:
        pass
    start = time.perf_counter()
    total = 0
    for images, _, _ in loader:
        total += len(images)
    seconds = time.perf_counter() - start
    assert total == len(ds)
    return seconds, before / 1024, status_kib("VmHWM") / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--no-full-pass", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    datasets = {"dSprites": DSprites(), "Shapes3D": Shapes3D()}
    for ds in datasets.values():  # build the pre-rendered tables outside the timings
        ds.observations(ds.sample_factors(2, 0))

    variants = {}
    for name, ds in datasets.items():
        for b in (64, 4096):
            factors = ds.sample_factors(b, rng)
            variants[(name, "observations", b)] = (lambda d=ds, f=factors: d.observations(f), b)
            batches = iter(make_loader(ds, batch_size=b, seed=0))
            next(batches)  # the epoch's permutation is drawn here, outside the timings
            variants[(name, "make_loader", b)] = (lambda it=batches: next(it), b)
            shape = (b, *ds.observation_shape)
            variants[(name, "ceiling: allocate + zero the output", b)] = (
                lambda s=shape: torch.zeros(s),
                b,
            )
        idx = rng.integers(0, len(ds), 64)
        variants[(name, "per-item ds[i] + stack", 64)] = (lambda d=ds, i=idx: per_item(d, i), 64)

    rates = {key: [] for key in variants}
    for _ in range(args.repeats):
        for key, (fn, n) in variants.items():
            rates[key].append(rate(fn, n))

    print(f"# bench_data  {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC")
    print(
        f"torch {torch.__version__}, {args.threads} threads, {os.cpu_count()} CPUs visible, "
        f"{platform.processor() or platform.machine()}, median of {args.repeats}, "
        f"load average {os.getloadavg()[0]:.1f} at the start\n"
    )
    print("| dataset | path | batch | images/s (median) | min–max |")
    print("|---|---|---:|---:|---:|")
    for (name, path, b), values in rates.items():
        print(
            f"| {name} | {path} | {b} | {np.median(values):,.0f} | "
            f"{min(values):,.0f}–{max(values):,.0f} |"
        )

    if not args.no_full_pass:
        ds = datasets["dSprites"]
        seconds, before, peak = full_pass_memory(ds, 4096)
        print(
            f"\nFull pass over dSprites ({len(ds):,} images, batches of 4096, make_loader, "
            f"no shuffle): {seconds:.1f} s ({len(ds) / seconds:,.0f} images/s); RSS before "
            f"{before:,.0f} MiB, peak during {peak:,.0f} MiB (+{peak - before:,.0f} MiB; one "
            f"float32 batch is {4096 * 64 * 64 * 4 / 2**20:.0f} MiB)."
        )
        bits = len(ds) * 64 * 64 / 8 / 2**20
        print(
            f"Official-file dSprites keeps its images as packed bits: {bits:,.0f} MiB "
            f"(uint8 would be {8 * bits:,.0f} MiB)."
        )


if __name__ == "__main__":
    main()
