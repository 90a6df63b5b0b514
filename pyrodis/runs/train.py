"""Train a configured run into a run directory, resumably (``pyrodis train`` calls this).

:func:`train_run` reads as its steps: plan (what to train, from where), build (everything, before
anything is written: a bad config leaves no half-made run), write the run's files, make the
trainer, restore the checkpoint when resuming, train with periodic checkpoints, return the run.
"""

from __future__ import annotations

import csv
import json
import platform
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyro
import torch

from pyrodis.inference import Trainer
from pyrodis.runs.build import build_dataset, build_elbo, build_model, build_schedule
from pyrodis.runs.checkpoint import CheckpointError, load_latest_checkpoint, save_checkpoint
from pyrodis.runs.config import Config, ConfigError
from pyrodis.runs.run import (
    CHECKPOINTS,
    CONFIG_FILE,
    LOG_FILE,
    Run,
    read_config,
    read_log,
    write_log,
)
from pyrodis.version import __version__

__all__ = ["train_run"]


@dataclass
class _Plan:
    config: Config
    history: list[dict[str, Any]]  # the train/resume actions recorded in config.json
    state: dict[str, Any] | None  # the checkpoint to continue from
    step: int


@dataclass
class _Parts:
    elbo: Any
    schedule: Any
    train_data: Any
    vae: Any


def _plan(out: Path, config: Config | None, resume: bool, steps: int | None) -> _Plan:
    history: list[dict[str, Any]] = []
    state, step = None, 0
    if resume:
        if config is not None:
            raise ConfigError("a resumed run keeps its own config; pass only steps=")
        config, raw = read_config(out)
        history = raw.get("history", [])
        try:
            state, step = load_latest_checkpoint(out / CHECKPOINTS)
        except CheckpointError as err:
            if (out / CHECKPOINTS).exists() and any((out / CHECKPOINTS).iterdir()):
                raise
            del err  # a run that stopped before its first checkpoint starts again from step 0
        if steps is not None and steps < step:
            raise ConfigError(f"{out} is already at step {step}; pass --steps of at least that")
    else:
        if config is None:
            raise ConfigError("give a config (e.g. pyrodis.runs.presets.preset_config('beta-vae'))")
        if (out / CONFIG_FILE).exists():
            raise FileExistsError(
                f"{out} already holds a run; continue it with resume=True (--resume {out}) "
                "or choose another output directory"
            )
    if steps is not None:
        if steps < 1:
            raise ConfigError(f"steps must be >= 1, got {steps}")
        config.train.steps = steps
    return _Plan(config, history, state, step)


def _build(config: Config) -> _Parts:
    """Everything the run needs; the global generators are seeded here, once per run."""
    elbo = build_elbo(config)
    schedule = build_schedule(config)
    pyro.set_rng_seed(config.seed)
    train_data = build_dataset(config, training=True)
    return _Parts(elbo, schedule, train_data, build_model(config, train_data))


def _write_config(out: Path, config: Config, history: list[dict[str, Any]]) -> None:
    record = {
        "config": config.to_dict(),
        "versions": {
            "pyrodis": __version__,
            "pyro": pyro.__version__,
            "torch": torch.__version__,
            "python": platform.python_version(),
        },
        "history": history,
    }
    tmp = out / (CONFIG_FILE + ".tmp")
    tmp.write_text(json.dumps(record, indent=2))
    tmp.replace(out / CONFIG_FILE)


class _CsvLog:
    """Appends rows to log.csv, rewriting it when a row brings a new column."""

    def __init__(self, path: Path, rows: list[dict[str, float]]):
        self.path, self.rows = path, list(rows)
        write_log(path, self.rows)

    def append(self, row: dict[str, float]) -> None:
        self.rows.append(row)
        with open(self.path, newline="") as fh:
            header = next(csv.reader(fh), [])
        if set(row) <= set(header):
            with open(self.path, "a", newline="") as fh:
                csv.DictWriter(fh, fieldnames=header).writerow(row)
        else:
            write_log(self.path, self.rows)


def _trainer(config: Config, parts: _Parts, progress: bool) -> Trainer:
    return Trainer(
        parts.vae.model,
        parts.vae.guide,
        parts.elbo,
        parts.train_data,
        batch_size=config.train.batch_size,
        lr=config.optim.lr,
        betas=tuple(config.optim.betas),
        schedule=parts.schedule,
        clip_norm=config.optim.clip_norm,
        seed=config.seed,
        log_every=config.train.log_every,
        progress=progress,
    )


def _train(trainer: Trainer, out: Path, config: Config, log: _CsvLog) -> None:
    def checkpoint(t: Trainer, *_: Any) -> None:
        save_checkpoint(
            out / CHECKPOINTS, t.step, t.state_dict(), keep=config.train.keep_checkpoints
        )

    trainer.callbacks.append((config.train.checkpoint_every, checkpoint))
    trainer.run(config.train.steps, on_log=log.append, on_interrupt=checkpoint)
    if trainer.step % config.train.checkpoint_every != 0 or trainer.step == 0:
        checkpoint(trainer)


def train_run(
    out: str | Path,
    config: Config | None = None,
    *,
    resume: bool = False,
    steps: int | None = None,
    progress: bool = True,
) -> Run:
    """Train ``config`` into the run directory ``out``, or continue the run there (``resume``).

    ``steps`` is the run's total number of steps (it overrides ``config.train.steps``). A resumed
    run loads the newest good checkpoint and continues with exactly the batches, random numbers
    and optimiser state of an uninterrupted run; a run stopped before its first checkpoint starts
    again from step 0. Ctrl-C or SIGTERM finishes the step in flight, saves a checkpoint and
    raises :class:`~pyrodis.inference.TrainingInterrupted`.

    A decaying learning-rate schedule (``cosine``) is timed by the run's total: resuming to the
    same total reproduces the uninterrupted run exactly; extending the total re-times the rest of
    the decay (from the resumed step on, as if the run had been planned that long).
    """
    out = Path(out)
    plan = _plan(out, config, resume, steps)
    parts = _build(plan.config)
    out.mkdir(parents=True, exist_ok=True)
    action = "resume" if resume else "train"
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S")
    plan.history.append({"action": action, "steps": plan.config.train.steps, "time": stamp})
    _write_config(out, plan.config, plan.history)
    trainer = _trainer(plan.config, parts, progress)
    rows: list[dict[str, float]] = []
    if plan.state is not None:
        trainer.load_state_dict(plan.state)
        rows = [r for r in read_log(out / LOG_FILE) if r["step"] <= plan.step]
    log = _CsvLog(out / LOG_FILE, rows)
    _train(trainer, out, plan.config, log)
    parts.vae.eval()
    eval_data = build_dataset(plan.config, training=False)
    return Run(out, plan.config, parts.vae, eval_data, log.rows, None, trainer.step)
