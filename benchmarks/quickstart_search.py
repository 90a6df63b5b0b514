"""Search for the README's main job: which β-TCVAE setting learns every dSprites factor in time.

Each candidate is the ``beta-tcvae`` preset at the ``cpu`` budget plus ``--set`` overrides
(learning rate and schedule, batch size, architecture, β, TC estimator, steps). It is trained
with ``pyrodis.runs.train_run``. Its last checkpoint is evaluated with the FULL MIG and
FactorVAE-score protocols; the intermediate ones with MIG's full protocol and the cpu budget's
1,500 FactorVAE votes (15,000 take ~10 min on 2 cores). One CSV row records the candidate, seed,
step, training seconds (the run's wall time pro rata of its steps), MIG and the FactorVAE score: the
curve of MIG against training time that issue 12 asks for. Each candidate is ONE run (its cosine
decay timed by its own total); every ``--eval-every``-th checkpoint is evaluated on its own.
Candidates are listed in ``CANDIDATES`` (edit or pass ``--only``).

Candidates run side by side (one torch thread each, ``OMP_NUM_THREADS=1``) train at about half
the speed of one run on both cores; ``--calibrate`` times a candidate's step on the threads it is
given (40 steps, after 10 of warm-up), which converts steps into minutes of training on two cores.

Usage (one candidate, one seed, ~20 min of training on 2 quiet cores)::

    OMP_WAIT_POLICY=PASSIVE python benchmarks/quickstart_search.py --only s6k \\
        --seeds 0 --eval-every 2000 --out runs/search --csv benchmarks/quickstart_search.csv
    OMP_WAIT_POLICY=PASSIVE python benchmarks/quickstart_search.py --only s6k --calibrate
"""

from __future__ import annotations

import argparse
import csv
import shutil
import time
from pathlib import Path

from pyrodis.openmp import set_passive_wait

set_passive_wait()  # before torch is imported: it loads the OpenMP runtime

import torch  # noqa: E402

from pyrodis.runs import evaluate_run, resolve_config, save_checkpoint, train_run  # noqa: E402

#: the searched settings as overrides of the beta-tcvae preset at the cpu budget; each spells out
#: its steps and warm-up, so it means the same whatever the preset's; "s6k" became the preset
#: ("preset" is the current one: benchmarks/RESULTS.md, "Quickstart")
_S6K = ["train.steps=6000", "optim.warmup_steps=300"]
CANDIDATES: dict[str, list[str]] = {
    "preset": [],
    "s6k": _S6K,
    "s6k-lr2e-3": [*_S6K, "optim.lr=2e-3"],
    "s6k-beta10": [*_S6K, "objective.beta=10.0"],
    "s6k-burgess": [*_S6K, "model.architecture='burgess'"],
    "s6k-mws": [*_S6K, "objective.estimator='mws'"],
    "s3k-b128": ["train.steps=3000", "optim.warmup_steps=150", "train.batch_size=128"],
}


#: the cpu budget evaluates the FactorVAE score on fewer votes; the goal is set at the full protocol
FULL_PROTOCOL = {"factor_vae": {"num_train": 10_000, "num_eval": 5_000}}


def _at_step(run_dir: Path, step: int, view: Path) -> Path:
    """A run directory holding only the checkpoint of ``step`` (to evaluate it alone)."""
    view.mkdir(parents=True, exist_ok=True)
    shutil.copy(run_dir / "config.json", view / "config.json")
    state = torch.load(run_dir / "checkpoints" / f"step_{step:08d}.pt", weights_only=True)
    save_checkpoint(view / "checkpoints", step, state)
    return view


def run_candidate(name: str, seed: int, out: Path, eval_every: int, writer) -> None:
    overrides = [
        *CANDIDATES[name],
        f"train.checkpoint_every={eval_every}",
        "train.keep_checkpoints=1000",
    ]
    config = resolve_config(preset="beta-tcvae", budget="cpu", seed=seed, overrides=overrides)
    run_dir = out / f"{name}-seed{seed}"
    start = time.perf_counter()
    train_run(run_dir, config, progress=False)  # one run: the cosine decay is timed by its total
    seconds = time.perf_counter() - start
    total = config.train.steps
    for step in range(eval_every, total + 1, eval_every):
        view = _at_step(run_dir, step, out / f"{name}-seed{seed}-at{step}")
        # the curve's points use the cpu budget's 1,500 votes; the final checkpoint the full 15,000
        options = FULL_PROTOCOL if step == total else None
        scores = evaluate_run(view, metrics=["mig", "factor_vae"], options=options).to_dict()
        mig = next(iter(scores["mig"].values()))["value"]
        fvae = [v["value"] for k, v in scores["factor_vae"].items() if not k.endswith("_train")][0]
        at = seconds * step / total  # steps run at a constant rate
        writer.writerow([name, seed, step, round(at, 1), mig, fvae, int(step == total)])
        print(
            f"{name} seed {seed} step {step}: ~{at:.0f} s, MIG {mig:.3f}, FactorVAE {fvae:.3f}",
            flush=True,
        )


def calibrate(name: str, out: Path) -> float:
    """Milliseconds per training step of candidate ``name`` on this process's torch threads."""
    times = []
    for steps in (10, 50):
        overrides = [*CANDIDATES[name], f"train.steps={steps}", "train.checkpoint_every=100000"]
        config = resolve_config(preset="beta-tcvae", budget="cpu", seed=0, overrides=overrides)
        run_dir = out / f"calibrate-{name}-{steps}"
        shutil.rmtree(run_dir, ignore_errors=True)
        start = time.perf_counter()
        train_run(run_dir, config, progress=False)
        times.append(time.perf_counter() - start)
        shutil.rmtree(run_dir, ignore_errors=True)
    ms = (times[1] - times[0]) / 40 * 1000
    print(
        f"{name}: {ms:.0f} ms/step on {torch.get_num_threads()} threads "
        f"-> {1200 / ms * 1000:.0f} steps in 20 min",
        flush=True,
    )
    return ms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", default=list(CANDIDATES))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--eval-every", type=int, default=1000)
    parser.add_argument("--out", type=Path, default=Path("runs/search"))
    parser.add_argument("--csv", type=Path, default=Path("benchmarks/quickstart_search.csv"))
    parser.add_argument("--calibrate", action="store_true", help="time a step; train nothing")
    args = parser.parse_args()
    if args.calibrate:
        for name in args.only:
            calibrate(name, args.out)
        return
    new = not args.csv.exists()
    with open(args.csv, "a", newline="") as fh:
        writer = csv.writer(fh)
        if new:
            writer.writerow(
                ["candidate", "seed", "step", "train_seconds", "mig", "factor_vae", "full_protocol"]
            )
        for name in args.only:
            for seed in args.seeds:
                run_candidate(name, seed, args.out, args.eval_every, writer)
                fh.flush()


if __name__ == "__main__":
    main()
