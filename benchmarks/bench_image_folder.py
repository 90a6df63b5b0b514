"""ImageFolder on a large folder of JPEGs: first-pass decode rate, cached rate, peak memory.

Run:  OMP_WAIT_POLICY=PASSIVE python benchmarks/bench_image_folder.py [--files 50000]
      [--sizes 10000 50000] [--side 96] [--workers 2] [--batch 256]

Generates ``--files`` RGB JPEGs of ``side × side`` pixels (smooth colour fields with noise, as
photographs compress) in sub-folders of 10,000 under a temporary folder, so that the first
sub-folder is a 10,000-file folder and the whole a 50,000-file one.  For each folder size a fresh
process (torch and the decode workers at 1 thread each) opens ``ImageFolder(size=64)`` with an
empty cache and reports:

- first pass: files decoded per second on ``--workers`` processes (headers, decode, cache write),
  and per CPU-second (user + system time of the main process and the workers), which the load
  of other processes on a shared machine does not change;
- reopen: seconds to open the cached folder again (no decoding);
- cached pass: images per second (and per CPU-second), best of three shuffled epochs, read through the access path the trainer
  and ``make_loader`` use (``BatchRule(dataset, batch).batch(step)``: a gather from the memory map
  and the uint8 → float32 conversion), the cache file being in the page cache;
- peak RSS (``ru_maxrss``) of the main process during the first pass and of the workers, and the
  peak *anonymous* RSS of the main process over the cached pass (the mapped cache file's pages
  are page cache the kernel may drop; they are reported apart as ``file``).

The generated files and the caches are deleted at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

PER_FOLDER = 10_000


def _write(args: tuple[str, int, int, int]) -> None:
    from PIL import Image

    folder, start, stop, side = args
    rng = np.random.default_rng(start)
    ramp = np.linspace(0, 1, side, dtype=np.float32)
    for i in range(start, stop):
        colour = rng.uniform(0, 255, size=(2, 3)).astype(np.float32)
        field = colour[0] * ramp[:, None, None] + colour[1] * ramp[None, :, None]
        noisy = field / 2 + rng.normal(0, 12, size=(side, side, 3))
        pixels = np.clip(noisy, 0, 255).astype(np.uint8)
        sub = Path(folder) / f"part{i // PER_FOLDER}"
        Image.fromarray(pixels).save(sub / f"{i:06d}.jpg", quality=90)


def generate(folder: Path, files: int, side: int, workers: int) -> float:
    for part in range(-(-files // PER_FOLDER)):
        (folder / f"part{part}").mkdir(parents=True)
    jobs = [(str(folder), s, min(s + 1000, files), side) for s in range(0, files, 1000)]
    start = time.perf_counter()
    with ProcessPoolExecutor(workers) as pool:
        list(pool.map(_write, jobs))
    return time.perf_counter() - start


def _rss_kib() -> dict[str, int]:
    out = {}
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(("RssAnon:", "RssFile:")):
                out[line.split(":")[0]] = int(line.split()[1])
    return out


def _cpu_seconds() -> float:
    """User + system CPU seconds of this process and of its finished children (the workers)."""
    own, kids = (resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def child(folder: str, cache: str, workers: int, batch: int) -> None:
    """One folder size in a fresh process: prints a JSON line of the measurements."""
    import torch

    torch.set_num_threads(1)
    from pyrodis.data import BatchRule, ImageFolder

    load = os.getloadavg()[0]
    cpu0 = _cpu_seconds()
    start = time.perf_counter()
    data = ImageFolder(folder, size=64, cache_dir=cache, workers=workers, progress=False)
    first = time.perf_counter() - start
    first_cpu = _cpu_seconds() - cpu0
    first_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    workers_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    data = ImageFolder(folder, size=64, cache_dir=cache, workers=workers, progress=False)
    reopen = time.perf_counter() - start
    rule = BatchRule(data, batch, seed=0)
    rule.batch(0)  # warm the page cache of the map
    anon = file = 0
    walls, cpus = [], []
    for epoch in range(3):
        steps = range(epoch * rule.steps_per_epoch, (epoch + 1) * rule.steps_per_epoch)
        start, cpu0 = time.perf_counter(), time.process_time()
        for step in steps:
            x, _ = rule.batch(step)
            if step % 20 == 0:
                rss = _rss_kib()
                anon, file = max(anon, rss["RssAnon"]), max(file, rss["RssFile"])
        walls.append(len(steps) * batch / (time.perf_counter() - start))
        cpus.append(len(steps) * batch / (time.process_time() - cpu0))
    assert x.shape == (batch, 3, 64, 64) and x.dtype == torch.float32
    print(
        json.dumps(
            dict(
                files=len(data),
                decode_rate=len(data) / first,
                decode_per_cpu_s=len(data) / first_cpu,
                load_average=load,
                reopen_s=reopen,
                cached_rate=max(walls),
                cached_per_cpu_s=max(cpus),
                first_pass_rss_mib=first_rss / 1024,
                workers_rss_mib=workers_rss / 1024,
                cached_anon_mib=anon / 1024,
                cached_file_mib=file / 1024,
            )
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=50_000)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 50_000])
    parser.add_argument("--side", type=int, default=96)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args.child[0], args.child[1], args.workers, args.batch)
    root = Path(tempfile.mkdtemp(prefix="pyrodis-bench-images-"))
    try:
        seconds = generate(root / "photos", args.files, args.side, args.workers)
        print(f"generated {args.files} {args.side}x{args.side} RGB JPEGs in {seconds:.0f} s")
        env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
        for size in args.sizes:
            parts = -(-size // PER_FOLDER)
            folder = root / "view" / str(size)
            folder.mkdir(parents=True)
            for p in range(parts):  # a folder of `size` files: links to the first parts
                (folder / f"part{p}").symlink_to(root / "photos" / f"part{p}")
            cmd = [sys.executable, __file__, "--child", str(folder), str(root / f"cache{size}")]
            cmd += ["--workers", str(args.workers), "--batch", str(args.batch)]
            out = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True)
            result = json.loads(out.stdout.strip().splitlines()[-1])
            print(
                f"{result['files']:>6} files (load average {result['load_average']:.1f}): first "
                f"pass {result['decode_rate']:,.0f} images/s on {args.workers} workers "
                f"({result['decode_per_cpu_s']:,.0f} per CPU-second); reopen "
                f"{result['reopen_s']:.2f} s; cached pass {result['cached_rate']:,.0f} images/s "
                f"({result['cached_per_cpu_s']:,.0f} per CPU-second; best of 3 epochs, batches "
                f"of {args.batch}); peak RSS main {result['first_pass_rss_mib']:.0f} MiB, "
                f"workers {result['workers_rss_mib']:.0f} MiB; cached pass anonymous "
                f"{result['cached_anon_mib']:.0f} MiB + mapped file {result['cached_file_mib']:.0f}"
                " MiB"
            )
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
