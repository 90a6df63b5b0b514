"""The study engine's cost per trial, and a small study's wall time with 1 and 2 trials at once.

1. Overhead: ``--trials`` short trials (seeds 0..k-1 of one tiny setting), each run twice,
   alternately first: with ``train_run`` + ``evaluate_run`` in this process, and as a one-trial
   study on a local Ray started once (1 CPU thread per trial both ways). The engine's cost per
   trial is the median of the paired differences (a one-trial study also pays the study's own
   validation and results table, so this over-estimates the per-trial cost); the time spent
   outside the task (scheduling, records, result collection) is study time − the task's own
   seconds. Ray's start-up is a once-per-study cost, reported apart. The cost does not grow with
   a trial's steps, so its share of a CPU-budget trial is the cost over that trial's time
   (``--cpu-trial-s``, measured in RESULTS.md, Training loop).
2. Wall time of a 12-trial study (3 presets × 2 values × 2 seeds, tiny trials) with 1 and with 2
   concurrent trials, 1 thread per trial.

    OMP_WAIT_POLICY=PASSIVE python benchmarks/bench_study.py [--trials 4 --steps 20]
"""

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from pyrodis.openmp import set_passive_wait

set_passive_wait()  # before torch is imported: it loads the OpenMP runtime

import ray  # noqa: E402
import torch  # noqa: E402

from pyrodis.runs import evaluate_run, train_run  # noqa: E402
from pyrodis.runs.study.file import expand_trials, read_study  # noqa: E402
from pyrodis.runs.study.ray_runner import run_study  # noqa: E402
from pyrodis.runs.study.results_table import read_results  # noqa: E402


def tiny(steps: int, seeds: list[int], grid: list[dict]) -> dict:
    return {
        "study": {"name": "bench", "seeds": seeds, "budget": "cpu"},
        "base": {
            "model.architecture": "burgess",
            "model.latent_dim": 4,
            "train.steps": steps,
            "train.batch_size": 32,
            "train.checkpoint_every": max(1, steps // 2),
            "optim.warmup_steps": 0,
            "eval.metrics": ["mig", "unsupervised"],
            "eval.options": {"mig": {"num_train": 500}, "unsupervised": {"num_train": 500}},
        },
        "grid": grid,
    }


def in_process(spec: dict, root: Path) -> float:
    torch.set_num_threads(1)
    start = time.perf_counter()
    for trial in expand_trials(read_study(spec)):
        train_run(root / trial.trial_id, trial.config, progress=False)
        evaluate_run(root / trial.trial_id)
    return time.perf_counter() - start


def start_ray() -> float:
    start = time.perf_counter()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    return time.perf_counter() - start


def as_study(spec: dict, root: Path, concurrent: int) -> float:
    start = time.perf_counter()
    run_study(spec, root, max_concurrent=concurrent, threads_per_trial=1, progress=False)
    return time.perf_counter() - start


def overhead(args, root: Path) -> None:
    direct, study, task = [], [], []
    startup = start_ray()
    for seed in range(args.trials):
        spec = tiny(args.steps, [seed], [{"preset": "beta-vae", "objective.beta": [4.0]}])
        first, second = ("direct", "study") if seed % 2 == 0 else ("study", "direct")
        for kind in (first, second):
            if kind == "direct":
                direct.append(in_process(spec, root / f"direct{seed}"))
            else:
                study.append(as_study(spec, root / f"study{seed}", concurrent=1))
                (row,) = read_results(root / f"study{seed}")
                task.append(row["wall_s"])
    ray.shutdown()
    diff = [s - d for s, d in zip(study, direct)]
    outside = [s - t for s, t in zip(study, task)]
    med = statistics.median
    print(
        f"short trial ({args.steps} steps + eval), 1 thread, in process: "
        f"median {med(direct):.2f} s {[round(d, 2) for d in direct]}"
    )
    print(
        f"same trial as a one-trial study: median {med(study):.2f} s {[round(s, 2) for s in study]}"
    )
    print(f"Ray start-up (once per study): {startup:.2f} s")
    print(
        f"engine cost per trial (paired median): {med(diff):.2f} s {[round(d, 2) for d in diff]}"
        f" = {100 * med(diff) / med(direct):.1f} % of this short trial, "
        f"{100 * med(diff) / args.cpu_trial_s:.2f} % of a {args.cpu_trial_s:.0f} s CPU-budget trial"
    )
    print(f"time outside the task (scheduling, records, collection): median {med(outside):.2f} s")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=4)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--cpu-trial-s", type=float, default=465.0)
    parser.add_argument("--skip-scaling", action="store_true")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench_study_"))
    overhead(args, root)
    if not args.skip_scaling:
        grid = [
            {"preset": "beta-vae", "objective.beta": [2.0, 6.0]},
            {"preset": "beta-tcvae", "objective.beta": [2.0, 6.0]},
            {"preset": "dip-vae-i", "objective.lambda_od": [2.0, 10.0]},
        ]
        for concurrent in (1, 2):
            startup = start_ray()
            study = as_study(
                tiny(args.steps, [0, 1], grid), root / f"scale{concurrent}", concurrent
            )
            ray.shutdown()
            print(f"12-trial study, {concurrent} concurrent x 1 thread: {startup + study:.1f} s "
                  f"(Ray start-up {startup:.1f} s)")  # fmt: skip
    shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
