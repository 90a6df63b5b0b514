"""Train a preset from Python, evaluate it and write its report (what ``pyrodis train`` does).

python examples/train_preset.py --preset beta-tcvae --steps 3000 --out runs/example
python examples/train_preset.py --quick --steps 20 --out runs/smoke   # a smoke test
"""

import argparse
from pathlib import Path

from pyrodis.runs import evaluate_run, load_run, preset_config, train_run, write_report


def main(preset: str, steps: int, out: Path, quick: bool = False) -> Path:
    config = preset_config(preset, budget="cpu")
    config.train.steps = steps
    config.train.checkpoint_every = max(1, steps // 4)
    metrics = None
    if quick:  # a lighter evaluation: MIG on 1,000 points, report on 500
        config.train.batch_size, config.train.log_every = 16, 1
        config.eval.options, config.eval.num_points = {"mig": {"num_train": 1_000}}, 500
        metrics = ["mig"]
    run = train_run(out, config, progress=not quick)
    print(f"trained to step {run.step}; last terms: {run.history[-1]}")
    print(evaluate_run(out, metrics=metrics).table())
    report = write_report(load_run(out), num_points=config.eval.num_points)
    print("report:", report)
    return report


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="beta-tcvae")
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--out", type=Path, default=Path("runs/example"))
    parser.add_argument("--quick", action="store_true", help="tiny batches, light evaluation")
    args = parser.parse_args()
    main(args.preset, args.steps, args.out, args.quick)
