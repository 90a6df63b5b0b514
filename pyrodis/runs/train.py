"""Train a configured run into a run directory, resumably (``pyrodis train`` calls this)."""

from __future__ import annotations

import csv
import json
import platform
import time
from pathlib import Path
from typing import Any

import pyro
import torch

import pyrodis
from pyrodis.config import Config, ConfigError
from pyrodis.inference.fit import Trainer
from pyrodis.inference.schedules import make_schedule
from pyrodis.runs.build import build_dataset, build_elbo, build_model
from pyrodis.runs.checkpoint import load_latest_checkpoint, save_checkpoint
from pyrodis.runs.run import (
    CHECKPOINTS,
    CONFIG_FILE,
    LOG_FILE,
    Run,
    read_config,
    read_log,
    write_log,
)


def _write_config(out: Path, config: Config, history: list[dict[str, Any]]) -> None:
    record = {
        "config": config.to_dict(),
        "versions": {
            "pyrodis": pyrodis.__version__,
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
    and optimiser state of an uninterrupted run. Ctrl-C saves a checkpoint and raises
    :class:`~pyrodis.inference.fit.TrainingInterrupted`.

    A decaying learning-rate schedule (``cosine``) is timed by the run's total: resuming to the
    same total reproduces the uninterrupted run exactly; extending the total re-times the rest of
    the decay (from the resumed step on, as if the run had been planned that long).
    """
    out = Path(out)
    history: list[dict[str, Any]] = []
    if resume:
        if config is not None:
            raise ConfigError("a resumed run keeps its own config; pass only steps=")
        config, raw = read_config(out)
        history = raw.get("history", [])
        state, step = load_latest_checkpoint(out / CHECKPOINTS)
        if steps is not None and steps < step:
            raise ConfigError(f"{out} is already at step {step}; pass --steps of at least that")
    else:
        if config is None:
            raise ConfigError("give a config (e.g. pyrodis.presets.preset_config('beta-tcvae'))")
        if (out / CONFIG_FILE).exists():
            raise FileExistsError(
                f"{out} already holds a run; continue it with resume=True (--resume {out}) "
                "or choose another output directory"
            )
    if steps is not None:
        if steps < 1:
            raise ConfigError(f"steps must be >= 1, got {steps}")
        config.train.steps = steps
    # everything is built before anything is written: a bad config leaves no half-made run
    elbo = build_elbo(config)
    try:
        schedule = make_schedule(
            config.optim.schedule,
            total_steps=config.train.steps,
            warmup_steps=config.optim.warmup_steps,
            floor=config.optim.lr_floor,
        )
    except ValueError as err:
        raise ConfigError(f"optim.schedule: {err}") from err
    pyro.clear_param_store()
    pyro.set_rng_seed(config.seed)
    train_data = build_dataset(config, training=True)
    vae = build_model(config, train_data)
    out.mkdir(parents=True, exist_ok=True)
    history.append(
        {
            "action": "resume" if resume else "train",
            "steps": config.train.steps,
            "time": time.strftime("%Y-%m-%dT%H:%M:%S"),
        }
    )
    _write_config(out, config, history)
    trainer = Trainer(
        vae.model,
        vae.guide,
        elbo,
        train_data,
        batch_size=config.train.batch_size,
        lr=config.optim.lr,
        betas=tuple(config.optim.betas),
        schedule=schedule,
        clip_norm=config.optim.clip_norm,
        seed=config.seed,
        log_every=config.train.log_every,
        progress=progress,
    )
    rows: list[dict[str, float]] = []
    if resume:
        trainer.load_state_dict(state)
        rows = [r for r in read_log(out / LOG_FILE) if r["step"] <= step]
    log = _CsvLog(out / LOG_FILE, rows)

    def checkpoint(t: Trainer, *_: Any) -> None:
        save_checkpoint(
            out / CHECKPOINTS, t.step, t.state_dict(), keep=config.train.keep_checkpoints
        )

    trainer.callbacks.append((config.train.checkpoint_every, checkpoint))
    trainer.run(config.train.steps, on_log=log.append, on_interrupt=checkpoint)
    if trainer.step % config.train.checkpoint_every != 0 or trainer.step == 0:
        checkpoint(trainer)
    vae.eval()
    return Run(
        path=out,
        config=config.to_dict(),
        vae=vae,
        dataset=build_dataset(config, training=False),
        history=log.rows,
        metrics=None,
        elbo_name=config.objective.name,
        step=trainer.step,
    )
