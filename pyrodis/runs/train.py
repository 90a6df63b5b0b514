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

from pyrodis.inference.site_distributions import LatentSiteError
from pyrodis.runs.build import (
    build_dataset,
    build_device,
    build_elbo,
    build_model,
    build_schedule,
)
from pyrodis.runs.checkpoint import remove_stale_temporaries
from pyrodis.runs.config import Config, ConfigError
from pyrodis.runs.run import (
    CHECKPOINTS,
    CONFIG_FILE,
    LOG_FILE,
    Run,
    read_log,
    read_run_files,
    write_log,
)
from pyrodis.runs.rundir import (
    check_fresh_out,
    is_run,
    make_run_dir,
    refuse_if_locked,
    remove_half_made,
    run_lock,
)
from pyrodis.runs.safeguards import (
    RunCheckpoints,
    check_finite_parameters,
    describe_divergence,
    diverged,
)
from pyrodis.training import Trainer
from pyrodis.training.param_state import ParameterMismatch
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


def _check_out(out: Path, config: Config | None, resume: bool) -> None:
    """Refuse a bad output directory or run before anything is created or written."""
    refuse_if_locked(out)  # a run being trained is refused first, naming the process
    if resume:
        if config is not None:
            raise ConfigError("a resumed run keeps its own config; pass only steps=")
        if not is_run(out):
            raise FileNotFoundError(
                f"{out} is not a pyrodis run (no {CONFIG_FILE}, no checkpoints); start one with "
                f"`pyrodis train --out {out}`"
            )
    else:
        if config is None:
            raise ConfigError("give a config (e.g. pyrodis.runs.presets.preset_config('beta-vae'))")
        check_fresh_out(out)


def _plan(out: Path, config: Config | None, resume: bool, steps: int | None) -> _Plan:
    """What to train and from where (called under the run's lock)."""
    history: list[dict[str, Any]] = []
    state, step = None, 0
    if resume:
        config, record, state, step = read_run_files(out)
        history = list(record.get("history", []))
        if steps is not None and steps < step:
            raise ConfigError(f"{out} is already at step {step}; pass --steps of at least that")
    else:
        check_fresh_out(out)  # again: another process may have made a run here meanwhile
    if steps is not None:
        if steps < 1:
            raise ConfigError(f"steps must be >= 1, got {steps}")
        config.train.steps = steps
    return _Plan(config, history, state, step)


def _build(config: Config, device: str | None = None) -> _Parts:
    """Everything the run needs; the global generators are seeded here, once per run."""
    elbo = build_elbo(config)
    schedule = build_schedule(config)
    pyro.set_rng_seed(config.seed)
    train_data = build_dataset(config, training=True)
    if config.train.batch_size > len(train_data):
        raise ConfigError(
            f"train.batch_size={config.train.batch_size} is larger than the dataset "
            f"({len(train_data)} images); use a batch_size of at most {len(train_data)}"
        )
    vae = build_model(config, train_data).to(build_device(config, device))
    return _Parts(elbo, schedule, train_data, vae)


def _record(config: Config, history: list[dict[str, Any]]) -> dict[str, Any]:
    """What config.json holds (and every checkpoint, under ``"run"``)."""
    return {
        "config": config.to_dict(),
        "versions": {
            "pyrodis": __version__,
            "pyro": str(pyro.__version__),
            "torch": str(torch.__version__),
            "python": platform.python_version(),
        },
        "history": history,
    }


def _write_config(out: Path, record: dict[str, Any]) -> None:
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
        device=next(parts.vae.parameters()).device,
    )


def _train(
    trainer: Trainer, out: Path, config: Config, log: _CsvLog, saver: RunCheckpoints
) -> None:
    trainer.callbacks += [(1, check_finite_parameters), (config.train.checkpoint_every, saver)]
    try:
        trainer.run(config.train.steps, on_log=log.append, on_interrupt=saver)
    except LatentSiteError as err:
        raise ConfigError(f"objective: {err}") from None
    except (FloatingPointError, ValueError) as err:
        what = describe_divergence(err, trainer.step)
        if what is None:
            raise
        raise diverged(out, what, trainer.step, saver.last) from None
    saver(trainer)  # the final step (a no-op when a periodic checkpoint just saved it)


def train_run(
    out: str | Path,
    config: Config | None = None,
    *,
    resume: bool = False,
    steps: int | None = None,
    progress: bool = True,
    device: str | None = None,
) -> Run:
    """Train ``config`` into the run directory ``out``, or continue the run there (``resume``).

    ``steps`` is the run's total number of steps (it overrides ``config.train.steps``). A resumed
    run loads the newest good checkpoint and continues with exactly the batches, random numbers
    and optimiser state of an uninterrupted run; a run stopped before its first checkpoint starts
    again from step 0. Ctrl-C or SIGTERM finishes the step in flight, saves a checkpoint and
    raises :class:`~pyrodis.training.TrainingInterrupted`.

    One process trains a run at a time (:func:`~pyrodis.runs.rundir.run_lock`; another gets
    :class:`~pyrodis.runs.rundir.RunLocked` naming the holder's pid). ``out`` must be new, empty
    or, with ``resume``, a run. A loss or parameter that goes non-finite stops training with
    :class:`~pyrodis.runs.safeguards.TrainingDiverged`; no non-finite checkpoint is written. A
    fresh run that fails before its first checkpoint leaves nothing behind.

    A decaying learning-rate schedule (``cosine``) is timed by the run's total: resuming to the
    same total reproduces the uninterrupted run exactly; extending the total re-times the rest of
    the decay (from the resumed step on, as if the run had been planned that long).
    ``device`` overrides ``config.train.device`` (e.g. to resume a GPU run on a CPU: the
    checkpoint loads on any device).
    """
    out = Path(out)
    _check_out(out, config, resume)
    created = make_run_dir(out)
    with run_lock(out):
        saver = None
        try:
            plan = _plan(out, config, resume, steps)
            saver = _start(out, plan, resume)
            return _run(out, plan, saver, progress, device)
        except BaseException:
            if not resume and (saver is None or not saver.written):
                remove_half_made(out, created)
            raise


def _start(out: Path, plan: _Plan, resume: bool) -> RunCheckpoints:
    remove_stale_temporaries(out / CHECKPOINTS)
    plan.history.append(
        {
            "action": "resume" if resume else "train",
            "steps": plan.config.train.steps,
            "time": time.strftime("%Y-%m-%dT%H:%M:%S"),
        }
    )
    record = _record(plan.config, plan.history)
    last = plan.step if plan.state is not None else None
    return RunCheckpoints(out / CHECKPOINTS, plan.config.train.keep_checkpoints, record, last)


def _run(out: Path, plan: _Plan, saver: RunCheckpoints, progress: bool, device: str | None) -> Run:
    parts = _build(plan.config, device)
    trainer = _trainer(plan.config, parts, progress)
    rows: list[dict[str, float]] = []
    if plan.state is not None:
        try:
            trainer.load_state_dict(plan.state)
        except ParameterMismatch as err:
            raise ConfigError(
                f"the checkpoint of {out} does not fit the model its config builds: {err}"
            ) from None
        read_log(out / LOG_FILE)  # warns about damaged rows: the log is rewritten below
        rows = [r for r in plan.state["history"] if r["step"] <= plan.step]
    _write_config(out, saver.record)
    log = _CsvLog(out / LOG_FILE, rows)
    _train(trainer, out, plan.config, log, saver)
    parts.vae.eval()
    eval_data = build_dataset(plan.config, training=False)
    return Run(out, plan.config, parts.vae, eval_data, log.rows, None, trainer.step)
