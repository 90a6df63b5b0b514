"""Which TC estimator learns more in the same CPU time: MSS at batch 64, MSS at the largest batch
that fits the time, and the bank estimator (``objective.estimator='bank'``), on the quickstart.

Every setting is the ``beta-tcvae`` preset at the ``cpu`` budget with overrides. Its steps come
from the time budget: a short calibration (``--calibrate-steps`` steps after as many of warm-up,
on this machine and these threads, on the wall clock or with ``--clock cpu`` the process's CPU
time) gives milliseconds per step, and the run gets
``minutes · 60 000 / ms`` steps (warm-up 5 % of them). "MSS big" takes the largest batch of
``--batches`` whose steps still reach ``--min-steps``. Each setting is trained for every seed,
then evaluated with the full protocols (MIG, FactorVAE score at 10,000/5,000 votes, DCI) and the
reconstruction NLL (nats per image from the encoder mean, on ``--recon-points`` images);
``--report`` also writes each run's report (traversals). The summary gives per setting the
median, the range over seeds and a 95 % t-interval of the mean; one CSV row per run.

The comparison asked for (≥ 3 seeds × 3 settings × 20 minutes on two quiet cores)::

    OMP_WAIT_POLICY=PASSIVE python benchmarks/tc_equal_time.py --minutes 20 --seeds 0 1 2 \\
        --out runs/tc-equal-time --csv benchmarks/tc_equal_time.csv --report

A check that the script runs end to end (seconds of training, cheap metric protocols)::

    OMP_WAIT_POLICY=PASSIVE python benchmarks/tc_equal_time.py --steps 20 --seeds 0 --cheap \\
        --batches 128 --min-steps 10 --out /tmp/tc-equal-time --csv /tmp/tc-equal-time.csv
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import shutil
import statistics
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import torch  # noqa: E402
from pyro import poutine  # noqa: E402

from pyrodis.data.sources import as_source  # noqa: E402
from pyrodis.runs import evaluate_run, load_run, resolve_config, train_run  # noqa: E402

SETTINGS: dict[str, list[str]] = {
    "mss-b64": ["train.batch_size=64", "objective.estimator='mss'"],
    "mss-big": ["objective.estimator='mss'"],  # + the batch chosen by the time budget
    "bank": ["train.batch_size=64", "objective.estimator='bank'", "objective.bank_size=4096"],
}
METRICS = ["mig", "factor_vae", "dci"]
FULL = {"factor_vae": {"num_train": 10_000, "num_eval": 5_000}}  # MIG, DCI: their defaults
CHEAP = {
    "mig": {"num_train": 1_000},
    "factor_vae": {"num_train": 200, "num_eval": 100, "num_variance_estimate": 1_000},
    "dci": {"num_train": 500, "num_test": 200},
}
#: "wall": minutes on the machine as it is (the quickstart goal: 20 min on two quiet cores);
#: "cpu": the process's CPU time (steadier on a shared machine; two busy threads count twice)
_CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}
COLUMNS = ["mig", "factor_vae", "dci_disentanglement", "recon_nll"]


def _config(overrides: list[str], seed: int, steps: int):
    return resolve_config(
        preset="beta-tcvae",
        budget="cpu",
        seed=seed,
        overrides=[
            *overrides,
            f"train.steps={steps}",
            f"optim.warmup_steps={max(1, steps // 20)}",
            f"train.checkpoint_every={steps}",
            "train.log_every=10",
        ],
    )


def ms_per_step(overrides: list[str], out: Path, steps: int, clock=time.perf_counter) -> float:
    """Milliseconds per training step on ``clock``: runs of ``steps`` and ``2·steps`` after a warm-up run
    (which builds and caches what every run shares), differenced; when timing noise makes the
    difference non-positive, the longer run's time per step (an upper bound) is used."""
    times = []
    for n in (steps, steps, 2 * steps):
        run_dir = out / "calibrate"
        shutil.rmtree(run_dir, ignore_errors=True)
        start = clock()
        train_run(run_dir, _config(overrides, 0, n), progress=False)
        times.append(clock() - start)
        shutil.rmtree(run_dir, ignore_errors=True)
    diff = times[2] - times[1]
    return (diff / steps if diff > 0 else times[2] / (2 * steps)) * 1000


def plan(args) -> dict[str, tuple[list[str], int]]:
    """Each setting's overrides and steps for the time budget (or ``--steps`` for all)."""
    planned = {}
    for name in args.only:
        overrides = list(SETTINGS[name])
        if name == "mss-big":
            overrides = _largest_batch(overrides, args)
        if args.steps:
            steps = args.steps
        else:
            ms = ms_per_step(overrides, args.out, args.calibrate_steps, _CLOCKS[args.clock])
            steps = int(args.minutes * 60_000 / ms)
            print(f"{name}: {ms:.0f} ms/step ({args.clock}) -> {steps} steps", flush=True)
        planned[name] = (overrides, steps)
    return planned


def _largest_batch(overrides: list[str], args) -> list[str]:
    for batch in sorted(args.batches, reverse=True):
        candidate = [*overrides, f"train.batch_size={batch}"]
        if args.steps:
            return candidate
        ms = ms_per_step(candidate, args.out, args.calibrate_steps, _CLOCKS[args.clock])
        if args.minutes * 60_000 / ms >= args.min_steps:
            return candidate
    raise SystemExit(f"no batch of {args.batches} reaches {args.min_steps} steps in time")


def reconstruction_nll(run_dir: Path, points: int, seed: int) -> float:
    """−log p(x | z = encoder mean), nats per image, on ``points`` images of the dataset."""
    run = load_run(run_dir)
    source = as_source(run.dataset)
    idx = source.select(points, seed=seed)
    total = 0.0
    with torch.no_grad():
        for part in range(0, len(idx), 500):
            sub = idx[part : part + 500]
            x = source.observations(sub).float()
            loc, _ = run.vae.encode(x)
            model = poutine.condition(run.vae.model, data={"z": loc})
            trace = poutine.trace(model).get_trace(x, torch.from_numpy(sub))
            for site in trace.nodes.values():
                if site["type"] == "sample" and site["is_observed"]:
                    total += float(site["fn"].log_prob(site["value"]).sum())
    return -total / len(idx)


def _batch_of(overrides: list[str]) -> int:
    found = [o.split("=")[1] for o in overrides if o.startswith("train.batch_size=")]
    return int(found[-1]) if found else 64


def _score(scores: dict, metric: str, sub: str | None = None) -> float:
    """The metric's test score (``sub``, or its first sub-score not on the training split)."""
    subs = scores[metric]
    key = sub or next(k for k in subs if not k.endswith("_train"))
    return float(subs[key]["value"])


def run_one(name: str, overrides: list[str], steps: int, seed: int, args) -> dict:
    run_dir = args.out / f"{name}-seed{seed}"
    shutil.rmtree(run_dir, ignore_errors=True)
    wall, cpu = time.perf_counter(), time.process_time()
    train_run(run_dir, _config(overrides, seed, steps), progress=False)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    options = CHEAP if args.cheap else FULL
    if args.votes and not args.cheap:
        votes = {"num_train": args.votes[0], "num_eval": args.votes[1]}
        options = {**options, "factor_vae": votes}
    scores = evaluate_run(run_dir, metrics=METRICS, options=options).to_dict()
    row = {
        "setting": name,
        "seed": seed,
        "steps": steps,
        "batch": _batch_of(overrides),
        "train_wall_s": round(wall, 1),
        "train_cpu_s": round(cpu, 1),
        "mig": _score(scores, "mig"),
        "factor_vae": _score(scores, "factor_vae"),
        "dci_disentanglement": _score(scores, "dci", "disentanglement"),
        "recon_nll": reconstruction_nll(run_dir, args.recon_points, seed),
    }
    if args.report:
        from pyrodis.runs import write_report

        write_report(load_run(run_dir))
    print(", ".join(f"{k}={v}" for k, v in row.items()), flush=True)
    return row


def _interval(values: list[float]) -> str:
    if len(values) < 2:
        return "n/a"
    mean, sd = statistics.fmean(values), statistics.stdev(values)
    t = {2: 12.71, 3: 4.30, 4: 3.18, 5: 2.78}.get(len(values), 2.0)
    half = t * sd / math.sqrt(len(values))
    return f"[{mean - half:.3f}, {mean + half:.3f}]"


def summary(rows: list[dict]) -> None:
    print("\n| setting | seeds | steps | " + " | ".join(COLUMNS) + " |")
    print("|---" * (3 + len(COLUMNS)) + "|")
    for name in dict.fromkeys(r["setting"] for r in rows):
        mine = [r for r in rows if r["setting"] == name]
        cells = []
        for col in COLUMNS:
            values = [float(r[col]) for r in mine]
            cells.append(
                f"{statistics.median(values):.3f} ({min(values):.3f}–{max(values):.3f}; "
                f"95% CI {_interval(values)})"
            )
        print(f"| {name} | {len(mine)} | {mine[0]['steps']} | " + " | ".join(cells) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", default=list(SETTINGS), choices=list(SETTINGS))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--minutes", type=float, default=20.0, help="training minutes per run")
    parser.add_argument("--clock", choices=list(_CLOCKS), default="wall")
    parser.add_argument("--steps", type=int, help="fixed steps for every setting (no timing)")
    parser.add_argument("--batches", type=int, nargs="+", default=[128, 256, 512, 1024])
    parser.add_argument("--min-steps", type=int, default=3000)
    parser.add_argument("--calibrate-steps", type=int, default=20)
    parser.add_argument("--recon-points", type=int, default=5000)
    parser.add_argument("--cheap", action="store_true", help="small metric protocols (a check)")
    parser.add_argument(
        "--votes",
        type=int,
        nargs=2,
        metavar=("TRAIN", "EVAL"),
        help="FactorVAE votes instead of the full 10,000 / 5,000 (≈ 6 min per run on one thread)",
    )
    parser.add_argument("--report", action="store_true", help="write each run's report")
    parser.add_argument("--out", type=Path, default=Path("runs/tc-equal-time"))
    parser.add_argument("--csv", type=Path, default=Path("benchmarks/tc_equal_time.csv"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    planned = plan(args)
    rows = []
    for name, (overrides, steps) in planned.items():
        for seed in args.seeds:
            rows.append(run_one(name, overrides, steps, seed, args))
            _write_csv(args.csv, rows)
    summary(rows)


def _write_csv(path: Path, rows: list[dict]) -> None:
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


if __name__ == "__main__":
    main()
