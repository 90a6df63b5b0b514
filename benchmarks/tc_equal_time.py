"""Which TC estimator learns more in the same CPU time: MSS at batch 64, MSS at the largest batch
that fits the time, and the bank estimator (``objective.estimator='bank'``), on the quickstart.

Every setting is the ``beta-tcvae`` preset at the ``cpu`` budget with overrides. Its steps come
from the time budget: a short calibration (``--calibrate-steps`` steps, counted once the step's
cost is steady: for the bank, after the ``bank_size / batch`` steps that fill it), on this
machine and these threads, on the wall clock or with ``--clock cpu`` the process's CPU
time) gives milliseconds per step, measured in ``--calibrate-rounds`` interleaved rounds (every
setting once per round, the median kept) so that the settings share whatever load the machine
has; the run gets ``minutes · 60 000 / ms`` steps (warm-up 5 % of them). "MSS big" takes the
largest batch of ``--batches`` whose steps still reach ``--min-steps``. The calibration is saved to
``--plan`` (default ``OUT/plan.json``) and reused by every later call with the same budget, and
``--resume`` keeps the runs already in the CSV and continues a run stopped by Ctrl-C or SIGTERM
from its checkpoint: the comparison can be spread over several sessions
and every run of a setting still trains the same steps. The budget's threads (``--threads``, the
process's by default) are those of the calibration only: once the steps are planned, runs may
train them with other threads, e.g. two processes side by side with one thread each
(``OMP_NUM_THREADS=1``, disjoint ``--only``/``--seeds``; each run's row is added to the shared CSV
under a file lock), which costs the same steps in less wall time on a box whose second thread
adds little. Each setting is trained for every seed,
then evaluated with the full protocols (MIG, FactorVAE score at 10,000/5,000 votes, DCI) and the
reconstruction NLL (nats per image from the encoder mean, on ``--recon-points`` images);
``--report`` also writes each run's report (traversals). The summary gives per setting the
median, the range over seeds and a 95 % t-interval of the mean, then each setting against MSS at
batch 64 (the difference of the means with a bootstrap interval, and the exact one-sided
permutation test with the smallest p its runs allow); ``--summary`` prints it from the CSV alone.
One CSV row per run (rows with a ``note`` are discarded runs, kept for the record and left out of
the summary).

The comparison asked for (≥ 3 seeds × 3 settings × 20 minutes on two quiet cores)::

    OMP_WAIT_POLICY=PASSIVE python benchmarks/tc_equal_time.py --minutes 20 --seeds 0 1 2 \\
        --out runs/tc-equal-time --csv benchmarks/tc_equal_time_20min.csv --report --resume

or the same steps in two lanes of one thread each, calibrated first on the two threads::

    python benchmarks/tc_equal_time.py --minutes 20 --threads 2 --calibrate-only --out OUT
    OMP_NUM_THREADS=1 python benchmarks/tc_equal_time.py --minutes 20 --threads 2 --only bank \\
        --out OUT --csv CSV --report --resume &   # and a second lane with the other settings

A check that the script runs end to end (seconds of training, cheap metric protocols)::

    OMP_WAIT_POLICY=PASSIVE python benchmarks/tc_equal_time.py --steps 20 --seeds 0 --cheap \\
        --batches 128 --min-steps 10 --out /tmp/tc-equal-time --csv /tmp/tc-equal-time.csv
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import fcntl
import json
import math
import os
import shutil
import statistics
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from pyro import poutine  # noqa: E402
from study_controls import bootstrap_difference  # noqa: E402  (benchmarks/, the script's folder)

from pyrodis.data.sources import as_source  # noqa: E402
from pyrodis.inference.tc_reference_bank import DEFAULT_BANK_SIZE  # noqa: E402
from pyrodis.runs import evaluate_run, load_run, resolve_config, train_run  # noqa: E402
from pyrodis.runs.run_directory import RunDirectory  # noqa: E402
from pyrodis.runs.study.exact import permutation_test  # noqa: E402
from pyrodis.training import TrainingInterrupted  # noqa: E402

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
#: the direction in which a column is better (the reconstruction NLL: lower)
BETTER = {"mig": "greater", "factor_vae": "greater", "dci_disentanglement": "greater",
          "recon_nll": "less"}  # fmt: skip
BASELINE = "mss-b64"  # the published estimator at the preset's batch
#: a run stopped by Ctrl-C/SIGTERM saves a checkpoint and ``--resume`` continues it from there; a
#: killed one continues from its last periodic checkpoint
CHECKPOINT_EVERY = 1000


def _config(overrides: list[str], seed: int, steps: int):
    return resolve_config(
        preset="beta-tcvae",
        budget="cpu",
        seed=seed,
        overrides=[
            *overrides,
            f"train.steps={steps}",
            f"optim.warmup_steps={max(1, steps // 20)}",
            f"train.checkpoint_every={min(steps, CHECKPOINT_EVERY)}",
            "train.log_every=10",
        ],
    )


def _value_of(overrides: list[str], key: str) -> str | None:
    found = [o.split("=", 1)[1] for o in overrides if o.startswith(f"{key}=")]
    return found[-1].strip("'\"") if found else None


def fill_steps(overrides: list[str]) -> int:
    """Steps before a setting's step costs what it will for the rest of the run: the bank's
    pairwise term grows with the bank until it holds ``bank_size`` codes (``bank_size / batch``
    steps); MSS and MWS cost the same from the first step."""
    if _value_of(overrides, "objective.estimator") != "bank":
        return 0
    size = int(_value_of(overrides, "objective.bank_size") or DEFAULT_BANK_SIZE)
    return math.ceil(size / _batch_of(overrides))


def ms_per_step(overrides: list[str], out: Path, steps: int, clock=time.perf_counter) -> float:
    """Milliseconds per training step on ``clock`` once the step's cost is steady: runs of
    ``f + steps`` and ``f + 2·steps`` (``f`` = :func:`fill_steps`) after a warm-up run (which builds
    and caches what every run shares), differenced; when timing noise makes the difference
    non-positive, the longer run's time per step (an upper bound) is used."""
    base = fill_steps(overrides) + steps
    times = []
    for n in (base, base, base + steps):
        run_dir = out / "calibrate"
        shutil.rmtree(run_dir, ignore_errors=True)
        start = clock()
        train_run(run_dir, _config(overrides, 0, n), progress=False)
        times.append(clock() - start)
        shutil.rmtree(run_dir, ignore_errors=True)
    diff = times[2] - times[1]
    return (diff / steps if diff > 0 else times[2] / (base + steps)) * 1000


def calibrate(candidates: dict[str, list[str]], args) -> dict[str, float]:
    """Milliseconds per step of every setting, measured in ``--calibrate-rounds`` interleaved
    rounds (each round times every setting once) and the median taken: the settings share the
    machine's load, so their ratio holds even when the load changes."""
    clock = _CLOCKS[args.clock]
    times: dict[str, list[float]] = {name: [] for name in candidates}
    for _ in range(args.calibrate_rounds):
        for name, overrides in candidates.items():
            times[name].append(ms_per_step(overrides, args.out, args.calibrate_steps, clock))
    return {name: statistics.median(found) for name, found in times.items()}


def plan(args) -> dict[str, tuple[list[str], int]]:
    """Each setting's overrides and steps for the time budget (or ``--steps`` for all).

    The calibrated plan is saved to ``--plan`` (default ``OUT/plan.json``) and read back by a later
    call with the same budget, so a comparison spread over several sessions trains every run of a
    setting for the same steps whatever the load of the day."""
    if args.steps:
        return {n: (_with_batch(n, args, max(args.batches)), args.steps) for n in args.only}
    path = args.plan or args.out / "plan.json"
    budget = {"minutes": args.minutes, "clock": args.clock, "threads": args.threads}
    if path.exists():
        saved = json.loads(path.read_text())
        if saved["budget"] != budget:
            raise SystemExit(
                f"{path} was calibrated for {saved['budget']}, not {budget}: give the same "
                "--minutes/--clock/threads, or another --plan to calibrate anew"
            )
        missing = [n for n in args.only if n not in saved["settings"]]
        if missing:
            raise SystemExit(f"{path} has no plan for {missing}; give another --plan")
        chosen = saved["settings"]
    else:
        candidates = {n: list(SETTINGS[n]) for n in args.only}
        if "mss-big" in candidates:
            with _torch_threads(args.threads):
                candidates["mss-big"] = _largest_batch(candidates["mss-big"], args)
        with _torch_threads(args.threads):
            ms = calibrate(candidates, args)
        chosen = {
            n: {"overrides": o, "ms_per_step": round(ms[n], 2),
                "steps": int(args.minutes * 60_000 / ms[n])}
            for n, o in candidates.items()
        }  # fmt: skip
        path.write_text(json.dumps({"budget": budget, "settings": chosen}, indent=2))
    for name in args.only:
        entry = chosen[name]
        print(f"{name}: {entry['ms_per_step']} ms/step ({args.clock}) -> {entry['steps']} steps")
    return {n: (chosen[n]["overrides"], chosen[n]["steps"]) for n in args.only}


@contextlib.contextmanager
def _torch_threads(threads: int):
    """Torch's intra-op threads set to ``threads`` for the block (the budget's calibration)."""
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _with_batch(name: str, args, batch: int) -> list[str]:
    overrides = list(SETTINGS[name])
    return [*overrides, f"train.batch_size={batch}"] if name == "mss-big" else overrides


def _largest_batch(overrides: list[str], args) -> list[str]:
    for batch in sorted(args.batches, reverse=True):
        candidate = [*overrides, f"train.batch_size={batch}"]
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


def checkpointed_step(run_dir: Path) -> int:
    """The step of the run's newest checkpoint (0: no run or no checkpoint there)."""
    found = RunDirectory(run_dir).checkpoints.glob("step_*.pt")
    return max((int(p.stem.split("_")[1]) for p in found), default=0)


def run_one(name: str, overrides: list[str], steps: int, seed: int, args) -> dict:
    run_dir = args.out / f"{name}-seed{seed}"
    start = checkpointed_step(run_dir) if args.resume else 0
    if start:
        print(f"{name} seed {seed}: resuming from step {start}", flush=True)
    else:
        shutil.rmtree(run_dir, ignore_errors=True)
    wall, cpu = time.perf_counter(), time.process_time()
    config = None if start else _config(overrides, seed, steps)
    train_run(run_dir, config, resume=bool(start), progress=False)
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
        "train_threads": torch.get_num_threads(),
        "resumed_from": start,  # train_wall_s / train_cpu_s: from this step on
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


def per_run_table(rows: list[dict]) -> None:
    """Every run as a row, in the form of the table in ``benchmarks/RESULTS.md``."""
    print("\n| setting | seed | steps × batch | training s (one thread) | MIG | FactorVAE (full) "
          "| DCI disent. | recon NLL (nats) |")  # fmt: skip
    print("|---" * 8 + "|")
    order = list(dict.fromkeys(r["setting"] for r in rows))
    for r in sorted(rows, key=lambda r: (order.index(r["setting"]), int(r["seed"]))):
        wall = f"{float(r['train_wall_s']):.0f}"
        if int(r.get("resumed_from") or 0):
            wall += f" (from step {int(r['resumed_from']):,})"
        print(
            f"| {r['setting']} | {r['seed']} | {int(r['steps']):,} × {r['batch']} | {wall} | "
            f"{float(r['mig']):.3f} | {float(r['factor_vae']):.3f} | "
            f"{float(r['dci_disentanglement']):.3f} | {float(r['recon_nll']):.1f} |"
        )


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


def against_baseline(rows: list[dict]) -> None:
    """Each setting against MSS at batch 64: the difference of the means with its bootstrap
    interval and the exact one-sided permutation test in the direction that would favour the
    setting (with the smallest p its runs allow)."""
    by = {
        n: [r for r in rows if r["setting"] == n] for n in dict.fromkeys(r["setting"] for r in rows)
    }
    if len(by.get(BASELINE, [])) < 2:
        return
    for name, mine in by.items():
        if name == BASELINE or len(mine) < 2:
            continue
        print(f"\n{name} − {BASELINE} (n = {len(mine)} + {len(by[BASELINE])}):")
        for col in COLUMNS:
            a = [float(r[col]) for r in mine]
            b = [float(r[col]) for r in by[BASELINE]]
            test = permutation_test(a, b, alternative=BETTER[col])
            low, high = bootstrap_difference(np.asarray(a), np.asarray(b))
            print(
                f"  {col:20s} {test['difference']:+.3f} [{low:+.3f}, {high:+.3f}], exact p "
                f"({name} {'higher' if BETTER[col] == 'greater' else 'lower'}) = "
                f"{test['p_value']:.3f} (floor {test['min_p']:.3f})"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", default=list(SETTINGS), choices=list(SETTINGS))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--minutes", type=float, default=20.0, help="training minutes per run")
    parser.add_argument("--clock", choices=list(_CLOCKS), default="wall")
    parser.add_argument(
        "--threads",
        type=int,
        default=torch.get_num_threads(),
        help="torch threads of the budget (the calibration); runs use the process's own",
    )
    parser.add_argument(
        "--calibrate-only", action="store_true", help="write the plan and stop (no runs)"
    )
    parser.add_argument("--steps", type=int, help="fixed steps for every setting (no timing)")
    parser.add_argument("--batches", type=int, nargs="+", default=[128, 256, 512, 1024])
    parser.add_argument("--min-steps", type=int, default=3000)
    parser.add_argument("--calibrate-steps", type=int, default=20)
    parser.add_argument("--calibrate-rounds", type=int, default=3)
    parser.add_argument("--plan", type=Path, help="calibrated steps (default: OUT/plan.json)")
    parser.add_argument(
        "--resume", action="store_true", help="keep the CSV's runs and train the missing ones"
    )
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
    parser.add_argument(
        "--summary", action="store_true", help="summarise the CSV's planned runs; train nothing"
    )
    parser.add_argument("--out", type=Path, default=Path("runs/tc-equal-time"))
    parser.add_argument("--csv", type=Path, default=Path("benchmarks/tc_equal_time.csv"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    planned = plan(args)
    if args.calibrate_only:
        return
    if args.summary:
        args.seeds = []
    elif not args.resume:
        args.csv.unlink(missing_ok=True)
    for name, (overrides, steps) in planned.items():
        for seed in args.seeds:
            if any(_is_done(r, name, seed, steps) for r in _read_csv(args.csv)):
                print(f"{name} seed {seed}: in {args.csv} already (--resume)", flush=True)
                continue
            try:
                row = run_one(name, overrides, steps, seed, args)
            except TrainingInterrupted:
                raise SystemExit(
                    f"{name} seed {seed}: stopped with a checkpoint; the same command with "
                    "--resume continues it"
                ) from None
            _append_row(args.csv, row)
    rows = [
        r
        for r in _read_csv(args.csv)
        if any(_is_done(r, n, int(r["seed"]), st) for n, (_, st) in planned.items())
    ]
    per_run_table(rows)
    summary(rows)
    against_baseline(rows)


def _is_done(row: dict, name: str, seed: int, steps: int) -> bool:
    """A kept row (no note) of this setting and seed trained for the planned steps."""
    same = row["setting"] == name and int(row["seed"]) == seed and int(row["steps"]) == steps
    return same and not row.get("note")


def _read_csv(path: Path) -> list[dict]:
    if not path.exists():
        return []
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def _append_row(path: Path, row: dict) -> None:
    """Add ``row`` to the CSV under an exclusive lock, so that lanes running side by side keep
    each other's rows."""
    with open(path.with_name(path.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        _write_csv(path, [*_read_csv(path), row])


def _write_csv(path: Path, rows: list[dict]) -> None:
    fields = list(dict.fromkeys(k for r in rows for k in r))
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields, restval="")
        writer.writeheader()
        writer.writerows(rows)


if __name__ == "__main__":
    main()
