"""The ``pyrodis`` command line's arguments: one argparse parser per command (no logic here)."""

from __future__ import annotations

import argparse
from pathlib import Path

__all__ = ["build_parser"]

EPILOG_TRAIN = """\
examples:
  pyrodis train --preset beta-tcvae --dataset dsprites --out runs/tc
  pyrodis train --preset factor-vae --budget paper --set objective.gamma=10 --out runs/fvae
  pyrodis train --config my.toml --steps 20000 --out runs/mine
  pyrodis train --preset beta-tcvae --data photos/ --out runs/photos   # your own images
  pyrodis train --preset beta-vae --data photos/ --labels photos.csv --set data.size=32
  pyrodis train --resume runs/tc --steps 12000     # continue runs/tc up to step 12000
  pyrodis train --preset beta-vae --track tensorboard --track mlflow --out runs/b

A config file (TOML or JSON) has the tables [data] [model] [objective] [optim] [train] [eval];
`--set table.key=value` overrides one key (value in TOML syntax). Precedence, lowest first:
preset, config file, --dataset/--seed, --set. Ctrl-C saves a checkpoint; --resume continues it
with exactly the losses of an uninterrupted run (extending --steps re-times a cosine decay).
"""


def _add_set_option(parser: argparse.ArgumentParser, dest: str, metavar: str, text: str) -> None:
    """A repeatable ``--set KEY=VALUE`` option (value in TOML syntax)."""
    parser.add_argument(
        "--set",
        dest=dest,
        action="append",
        default=[],
        metavar=metavar,
        help=f"{text} (repeatable)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pyrodis",
        description="Learn and evaluate disentangled representations with Pyro.",
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    train = sub.add_parser(
        "train",
        help="train a model into a run directory (or resume one)",
        description="Train a Pyro VAE with a disentangling ELBO into a run directory.",
        epilog=EPILOG_TRAIN,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    train.add_argument("--preset", help="preset name (see `pyrodis presets`)")
    train.add_argument(
        "--budget",
        choices=["cpu", "paper"],
        default=None,
        help="the preset's budget: 'cpu' trains in minutes on a laptop, 'paper' uses the "
        "published settings (300k steps); default: cpu",
    )
    train.add_argument(
        "--schedule",
        choices=["cpu", "paper"],
        default=None,
        help="deprecated alias of --budget (removed in the next release)",
    )
    train.add_argument("--config", type=Path, help="TOML or JSON config file")
    train.add_argument("--dataset", help="dataset name (see `pyrodis datasets`)")
    train.add_argument(
        "--data-path",
        type=Path,
        help="official dataset file or directory (for scream-dsprites: the background picture)",
    )
    train.add_argument(
        "--data",
        type=Path,
        metavar="PATH",
        help="your own images, factors unknown: a folder of PNG/JPEG/WebP/BMP files or an "
        "array file (.npy/.npz/.h5); sets data.name='images' (size: --set data.size=32|64|128)",
    )
    train.add_argument(
        "--labels",
        type=Path,
        metavar="FILE.csv",
        help="labels of some of your images (a header, one row per file): the metrics that "
        "apply to labels run on them",
    )
    train.add_argument("--steps", type=int, help="the run's total number of training steps")
    train.add_argument("--seed", type=int, help="random seed (model init, batches, sampling)")
    train.add_argument("--out", type=Path, help="run directory (default: runs/NAME-TIMESTAMP)")
    _add_set_option(
        train, "overrides", "TABLE.KEY=VALUE", "override one config key, e.g. --set optim.lr=3e-4"
    )
    train.add_argument(
        "--track",
        action="append",
        default=[],
        metavar="tensorboard[:DIR]|mlflow[:URI]",
        help="log to TensorBoard (default DIR: RUN/tensorboard) or MLflow (default: "
        "MLFLOW_TRACKING_URI, else MLflow's local store); repeatable; config: [train] track",
    )
    train.add_argument("--resume", type=Path, metavar="RUN", help="continue this run up to --steps")
    train.add_argument("--no-progress", action="store_true", help="no progress bar")
    train.add_argument("--dry-run", action="store_true", help="print the resolved config and exit")

    evaluate = sub.add_parser(
        "evaluate",
        help="compute disentanglement metrics of a run (writes RUN/metrics.json)",
        description="Evaluate a trained run with the reference metric protocols.",
    )
    evaluate.add_argument("run", type=Path, metavar="RUN", help="run directory")
    evaluate.add_argument(
        "--metrics", help="comma-separated metric names (default: the run's eval.metrics)"
    )
    evaluate.add_argument(
        "--labels",
        type=Path,
        metavar="FILE.csv",
        help="labels of some of the run's images (own images only): MIG, DCI, SAP, modularity "
        "and IRS run on the labelled files (default: the run's data.labels)",
    )
    evaluate.add_argument("--repeats", type=int, help="independent evaluation draws (CI over them)")
    evaluate.add_argument("--seed", type=int, help="evaluation seed (default: the run's seed)")
    _add_set_option(
        evaluate,
        "options",
        "METRIC.KEY=VALUE",
        "override one protocol setting, e.g. --set factor_vae.num_train=1000 (recorded in "
        "metrics.json as a protocol override)",
    )
    evaluate.add_argument(
        "--representation",
        choices=["mean", "sample"],
        default="mean",
        help="codes are the encoder means (default) or one sample of q(z|x)",
    )

    report = sub.add_parser(
        "report",
        help="write RUN/report.html (self-contained) and RUN/report.json",
        description="Write the run's diagnostics report: figures, config, metrics, KL terms.",
    )
    report.add_argument("run", type=Path, metavar="RUN", help="run directory")
    report.add_argument("--out", type=Path, help="output directory (default: RUN)")
    for command in (train, evaluate, report):
        command.add_argument(
            "--device",
            help="auto | cpu | cuda | cuda:N | mps (train default: the config's train.device, "
            "'auto'; evaluate/report default: cpu)",
        )

    _add_study_parser(sub)
    explore = sub.add_parser(
        "explore",
        help="explore a run's latents in the browser (sliders, names, two runs matched)",
        description="Serve an interactive latent explorer on 127.0.0.1 and open it in the browser.",
    )
    explore.add_argument(
        "runs", nargs="+", type=Path, metavar="RUN", help="one run, or two side by side"
    )
    explore.add_argument("--port", type=int, default=8765, help="port (0: any free port)")
    explore.add_argument("--host", default="127.0.0.1", help="serve beyond this machine (warns)")
    explore.add_argument("--no-browser", action="store_true", help="do not open the browser")
    explore.add_argument(
        "--device", help="where the runs decode (default: each run's train.device)"
    )
    sub.add_parser("datasets", help="list the datasets", description="List the datasets.")
    sub.add_parser("presets", help="list the presets", description="List the training presets.")
    return parser


EPILOG_STUDY = """\
examples:
  pyrodis study run studies/locatello-mini.toml --out studies/out/mini
  pyrodis study run my.toml --out DIR --address HEAD:6379    # join a running Ray cluster
  pyrodis study report studies/out/mini                      # DIR/study.html + DIR/study.json
  pyrodis study report benchmarks/locatello-mini --out /tmp/lm   # from its saved tables

Re-running `study run` skips finished trials, resumes interrupted ones from their checkpoints and
retries failed ones; every trial is a run directory DIR/runs/ID, results in DIR/results.csv.
"""


def _add_study_parser(sub) -> None:
    study = sub.add_parser(
        "study",
        help="run a grid of objectives x hyperparameters x seeds on Ray, and report on it",
        description="Studies: a grid of runs on Ray (pip install 'pyrodis[study]').",
        epilog=EPILOG_STUDY,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = study.add_subparsers(dest="study_command", metavar="ACTION", required=True)
    run = actions.add_parser("run", help="run (or continue) a study file into DIR")
    run.add_argument("study_file", type=Path, metavar="STUDY.toml", help="the study file")
    run.add_argument("--out", type=Path, required=True, metavar="DIR", help="study directory")
    run.add_argument("--address", help="Ray cluster address to join (default: local Ray)")
    run.add_argument(
        "--max-concurrent", type=int, help="trials at once (default: CPUs / threads per trial)"
    )
    report = actions.add_parser("report", help="write DIR/study.html and DIR/study.json")
    report.add_argument("dir", type=Path, metavar="DIR", help="study directory")
    report.add_argument(
        "--out", type=Path, metavar="OUT", help="write the report here (default: DIR)"
    )
