"""Train a preset from Python, evaluate it and write its report (what ``pyrodis train`` does).

python examples/train_preset.py --preset beta-tcvae --steps 3000 --out runs/example
"""

import argparse
from pathlib import Path

from pyrodis.diagnostics import write_report
from pyrodis.presets import preset_config
from pyrodis.runs import load_run, train_run
from pyrodis.runs.evaluate import evaluate_run


def main(preset: str, steps: int, out: Path, metrics: list[str] | None = None) -> None:
    config = preset_config(preset, schedule="cpu")
    config.train.steps = steps
    config.train.checkpoint_every = max(1, steps // 4)
    run = train_run(out, config)
    print(f"trained to step {run.step}; last terms: {run.history[-1]}")
    print(evaluate_run(out, metrics=metrics).table())
    print("report:", write_report(load_run(out)))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="beta-tcvae")
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--out", type=Path, default=Path("runs/example"))
    args = parser.parse_args()
    main(args.preset, args.steps, args.out)
