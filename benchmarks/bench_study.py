"""The study engine's cost per trial, and a small study's wall time with 1 and 2 trials at once.

1. Overhead: ``--trials`` short trials (seeds 0..k-1 of one tiny setting) run (a) one after the
   other with ``train_run`` + ``evaluate_run`` in this process and (b) as a study on a local Ray
   with one trial at a time, each trial with 1 CPU thread. Ray's start-up is timed on its own (a
   once-per-study cost); the engine's cost per trial is (study wall time − Ray start-up − the
   in-process total) / k: scheduling, worker start, records, result collection. The cost does not
   grow with a trial's steps, so its share of a CPU-budget trial is that cost over the CPU-budget
   trial's time (``--cpu-trial-s``, measured in RESULTS.md, Training loop).
2. Wall time of a 12-trial study (3 presets × 2 values × 2 seeds, tiny trials) with 1 and with 2
   concurrent trials, 1 thread per trial.

    OMP_WAIT_POLICY=PASSIVE python benchmarks/bench_study.py [--trials 4 --steps 20]
"""

import argparse
import copy
import os
import shutil
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import torch  # noqa: E402

from pyrodis.runs import evaluate_run, train_run  # noqa: E402
from pyrodis.runs.study import run_study  # noqa: E402
from pyrodis.runs.study_file import expand_trials, read_study  # noqa: E402


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


def as_study(spec: dict, root: Path, concurrent: int) -> tuple[float, float]:
    """(Ray start-up seconds, study seconds after it) with a fresh local Ray."""
    import ray

    start = time.perf_counter()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    ready = time.perf_counter()
    run_study(spec, root, max_concurrent=concurrent, threads_per_trial=1, progress=False)
    done = time.perf_counter()
    ray.shutdown()
    return ready - start, done - ready


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=4)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--cpu-trial-s", type=float, default=465.0)
    parser.add_argument("--skip-scaling", action="store_true")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench_study_"))
    one = tiny(
        args.steps, list(range(args.trials)), [{"preset": "beta-vae", "objective.beta": [4.0]}]
    )
    direct = in_process(one, root / "direct")
    startup, study = as_study(one, root / "study", concurrent=1)
    per_trial = (study - direct) / args.trials
    print(
        f"short trial ({args.steps} steps + eval), 1 thread: {direct / args.trials:.2f} s in process"
    )
    print(f"Ray start-up (once per study): {startup:.2f} s")
    print(f"study of {args.trials} trials, 1 at a time: {study:.2f} s after start-up")
    print(f"engine cost per trial: {per_trial:.2f} s = {100 * per_trial / (direct / args.trials):.1f} % "
          f"of this short trial, {100 * per_trial / args.cpu_trial_s:.2f} % of a "
          f"{args.cpu_trial_s:.0f} s CPU-budget trial")  # fmt: skip
    if not args.skip_scaling:
        grid = [
            {"preset": "beta-vae", "objective.beta": [2.0, 6.0]},
            {"preset": "beta-tcvae", "objective.beta": [2.0, 6.0]},
            {"preset": "dip-vae-i", "objective.lambda_od": [2.0, 10.0]},
        ]
        twelve = tiny(args.steps, [0, 1], grid)
        for concurrent in (1, 2):
            spec = copy.deepcopy(twelve)
            startup, study = as_study(spec, root / f"scale{concurrent}", concurrent)
            print(f"12-trial study, {concurrent} concurrent x 1 thread: {startup + study:.1f} s "
                  f"(Ray start-up {startup:.1f} s)")  # fmt: skip
    shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
