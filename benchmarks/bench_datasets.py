"""Render/load throughput and peak memory of every dataset of ``pyrodis.data``.

Run:  OMP_WAIT_POLICY=PASSIVE python benchmarks/bench_datasets.py [--work /tmp/pyrodis-bench]
      [--mpi3d-rows 1036800] [--batches 40] [--keep] [--only NAME ...]

Each dataset is measured in a child process of its own, so that its peak resident memory
(``VmHWM``) is its own: construction time (for SmallNORB and Cars3D the first construction
builds the 64×64 cache, the second maps it), images/second of ``observations`` on random factor
batches of 256 (with ``rng``: nuisance drawn for the batch; ``fixed``: the per-index fixed
realisation), and the peak RSS.  The official-file datasets are measured on files written here
in the official formats and sizes (random pixels): SmallNORB's six binary matrix files (2 ×
24,300 stereo pairs), 183 Cars3D MATLAB v5 files and an MPI3D ``.npz`` of 1,036,800 images
(12.7 GB, streamed to disk, never held in memory).  Before the MPI3D reads the file's pages are
dropped from the page cache (``posix_fadvise(DONTNEED)``), so its first batches read the disk.
Everything written is deleted at the end unless ``--keep``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np

BATCH = 256


def write_norb(root: Path) -> None:
    from pyrodis.data.norb_files import write_norb as write
    from pyrodis.data.smallnorb import SPLITS

    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for split, instances in zip(SPLITS, ((4, 6, 7, 8, 9), (0, 1, 2, 3, 5))):
        grid = np.indices((5, 5, 9, 18, 6)).reshape(5, -1).T
        grid[:, 1] = np.asarray(instances)[grid[:, 1]]
        dat = rng.integers(0, 256, (len(grid), 2, 96, 96), dtype=np.uint8)
        write(root / f"{split}-dat.mat", dat)
        write(root / f"{split}-cat.mat", grid[:, 0].astype(np.int32))
        info = np.c_[grid[:, 1], grid[:, 2], 2 * grid[:, 3], grid[:, 4]].astype(np.int32)
        write(root / f"{split}-info.mat", info)


def write_cars(root: Path) -> None:
    import scipy.io

    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    block = rng.integers(0, 256, (128, 128, 3, 24, 4), dtype=np.uint8)
    for i in range(183):
        scipy.io.savemat(root / f"car_{i + 1:03d}_mesh.mat", {"im": np.roll(block, i, axis=0)})


def write_mpi3d(path: Path, rows: int) -> None:
    """An uncompressed .npz with ``images`` (rows, 64, 64, 3) uint8, streamed in 64 MB chunks."""
    header = {"descr": "|u1", "fortran_order": False, "shape": (rows, 64, 64, 3)}
    block = np.random.default_rng(0).integers(0, 256, 64 << 20, dtype=np.uint8)
    total = rows * 64 * 64 * 3
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
        with zf.open("images.npy", "w", force_zip64=True) as fh:
            np.lib.format.write_array_header_2_0(fh, header)
            done, k = 0, 0
            while done < total:
                n = min(len(block), total - done)
                fh.write((block[:n] + np.uint8(k)).tobytes())
                done, k = done + n, k + 1
    with open(path, "rb") as fh:
        os.fsync(fh.fileno())
        os.posix_fadvise(fh.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)


def build(name: str, work: Path):
    from pyrodis.data import get_dataset
    from pyrodis.data.npz_mmap import npz_member_info

    cache = work / "cache"
    if name == "scream-dsprites":
        return get_dataset(name, path=work / "picture.png")
    if name == "smallnorb":
        return get_dataset(name, path=work / "smallnorb", cache_dir=cache)
    if name == "cars3d":
        return get_dataset(name, path=work / "cars", cache_dir=cache)
    if name == "mpi3d-toy":
        path = work / "mpi3d_toy.npz"
        rows = npz_member_info(path, "images", (None, 64, 64, 3))[1][0]
        sizes = None if rows == 1_036_800 else (rows // 1600, 1, 1, 1, 1, 40, 40)
        return get_dataset(name, path=path, cache_dir=cache, factor_sizes=sizes)
    return get_dataset(name)


def status_mib(field: str) -> float:
    """``VmRSS`` (resident now) or ``VmHWM`` (peak) of this process, in MiB.  Unlike
    ``ru_maxrss``, ``VmHWM`` starts afresh at exec: the parent's peak is not inherited."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


def measure(name: str, work: Path, batches: int) -> dict:
    """One dataset, in this (child) process."""
    import torch

    torch.set_num_threads(1)
    start = time.perf_counter()
    ds = build(name, work)
    first = time.perf_counter() - start
    start = time.perf_counter()
    ds = build(name, work)
    second = time.perf_counter() - start
    out = {"name": name, "len": len(ds), "shape": list(ds.observation_shape)}
    out.update(construct_s=round(first, 2), construct_again_s=round(second, 3))
    rng = np.random.default_rng(0)
    nuisance = "rng" in ds.observations.__code__.co_varnames
    modes = ["rng", "fixed"] if nuisance else ["plain"]
    for mode in modes:
        factors = [ds.sample_factors(BATCH, rng) for _ in range(batches)]
        kw = {"rng": rng} if mode == "rng" else {}
        ds.observations(factors[0], **kw)  # warm
        start = time.perf_counter()
        for f in factors:
            ds.observations(f, **kw)
        out[f"images_per_s_{mode}"] = round(BATCH * batches / (time.perf_counter() - start))
    out["rss_after_mib"] = round(status_mib("VmRSS"))
    # of which anonymous (heap) and file-backed (mapped file pages, reclaimable by the kernel)
    out["rss_anon_mib"], out["rss_file_mib"] = (
        round(status_mib(f)) for f in ("RssAnon", "RssFile")
    )
    out["peak_rss_mib"] = round(status_mib("VmHWM"))
    return out


def prepare(work: Path, mpi3d_rows: int, names: tuple[str, ...]) -> dict:
    from PIL import Image

    work.mkdir(parents=True, exist_ok=True)
    times = {}
    y, x = np.mgrid[0:274, 0:350]
    picture = np.stack([np.sin(x / 17.0) * np.cos(y / 23.0), x / 350, y / 274], -1)
    Image.fromarray(((picture - picture.min()) / np.ptp(picture) * 255).astype(np.uint8)).save(
        work / "picture.png"
    )
    for label, fn in (
        ("smallnorb", lambda: write_norb(work / "smallnorb")),
        ("cars3d", lambda: write_cars(work / "cars")),
        ("mpi3d", lambda: write_mpi3d(work / "mpi3d_toy.npz", mpi3d_rows)),
    ):
        if not any(n.startswith(label[:5]) for n in names):
            continue
        start = time.perf_counter()
        fn()
        times[f"write_{label}_s"] = round(time.perf_counter() - start, 1)
    return times


NAMES = (
    "dsprites",
    "color-dsprites",
    "noisy-dsprites",
    "scream-dsprites",
    "shapes3d",
    "smallnorb",
    "cars3d",
    "mpi3d-toy",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--work", type=Path, default=Path("/tmp/pyrodis-bench"))
    parser.add_argument("--mpi3d-rows", type=int, default=1_036_800, help="a multiple of 1600")
    parser.add_argument("--batches", type=int, default=40)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--only", nargs="+", choices=NAMES, help="measure only these datasets")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.one, args.work, args.batches)))
        return
    free = shutil.disk_usage(args.work.parent if not args.work.exists() else args.work).free
    need = args.mpi3d_rows * 12288 * ("mpi3d-toy" in (args.only or NAMES)) + (2 << 30)
    if free < need:
        sys.exit(
            f"{free / 2**30:.1f} GiB free under {args.work}, need {need / 2**30:.1f} GiB; "
            "pass a smaller --mpi3d-rows (and a matching release is then not checked)"
        )
    print(
        f"# {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"python {platform.python_version()}, batch {BATCH}, {args.batches} batches, 1 thread"
    )
    try:
        print(json.dumps(prepare(args.work, args.mpi3d_rows, args.only or NAMES)))
        for name in args.only or NAMES:
            cmd = [sys.executable, __file__, "--one", name, "--work", str(args.work),
                   "--batches", str(args.batches)]  # fmt: skip
            done = subprocess.run(cmd, capture_output=True, text=True, check=False)
            print(done.stdout.strip() or f'{{"name": "{name}", "error": {done.stderr[-400:]!r}}}')
            sys.stdout.flush()
    finally:
        if not args.keep:
            shutil.rmtree(args.work, ignore_errors=True)


if __name__ == "__main__":
    main()
