"""Train a configured run into a run directory, resumably (``pyrodis train`` calls this).

:func:`train_run` reads as its three steps: **plan** what to train and from where (the config, or
the run's own config and newest checkpoint when resuming), **build** everything before anything
is written (a bad config leaves no half-made run), **train** with periodic checkpoints. The run
directory's files, lock and checkpoints belong to
:class:`~pyrodis.runs.run_directory.RunDirectory`; the ``--resume`` rule is
:func:`check_resume`.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyro

from pyrodis.atomic import FileWriteError
from pyrodis.inference.site_distributions import LatentSiteError
from pyrodis.runs.build import build_dataset, build_device, build_elbo, build_model, build_schedule
from pyrodis.runs.config import Config, ConfigError, check_eval
from pyrodis.runs.divergence import (
    check_finite_parameters,
    describe_divergence,
    diverged,
    write_failed,
)
from pyrodis.runs.reference_estimate import CheckpointEstimate
from pyrodis.runs.run_directory import CheckpointSaver, RunDirectory
from pyrodis.runs.tracked_images import CheckpointImages
from pyrodis.runs.tracking import (
    TrackingOptions,
    check_trackers,
    close_trackers,
    open_trackers,
    remove_tracking,
)
from pyrodis.runs.trained_run import Run
from pyrodis.training import Tracker, Trainer
from pyrodis.training.param_state import ParameterMismatch

__all__ = ["check_resume", "default_out", "train_run"]


def check_resume(resume: bool, given: Iterable[str]) -> None:
    """The ``--resume`` rule, written once: a resumed run keeps its own config, so nothing that
    makes a config (``given``: a config, preset, config file, dataset, seed, overrides) may come
    with it; only the total steps and the device may."""
    given = list(given)
    if resume and given:
        raise ConfigError(
            f"--resume keeps the run's own config; give only --steps (steps=), not "
            f"{', '.join(given)}"
        )


def default_out(config: Config) -> Path:
    """``runs/NAME-YYYYmmdd-HHMMSS``: where ``pyrodis train`` writes without ``--out``."""
    name = config.preset or config.objective.name
    return Path("runs") / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}"


@dataclass
class _Plan:
    config: Config
    history: list[dict[str, Any]]  # the train/resume actions recorded in config.json
    state: dict[str, Any] | None  # the checkpoint to continue from
    step: int
    run_id: str | None  # tells its checkpoints from another run's (None: a run made before ids)


def _plan(run_dir: RunDirectory, config: Config | None, resume: bool, steps: int | None) -> _Plan:
    """What to train and from where (called under the run's lock)."""
    history: list[dict[str, Any]] = []
    state, step, run_id = None, 0, uuid.uuid4().hex
    if resume:
        config, record, state, step = run_dir.read()
        history, run_id = list(record.get("history", [])), record.get("run_id")
        if steps is not None and steps < step:
            raise ConfigError(
                f"{run_dir.path} is already at step {step}; pass --steps of at least that"
            )
    else:
        run_dir.check_fresh()  # again: another process may have made a run here meanwhile
    if steps is not None:
        if steps < 1:
            raise ConfigError(f"steps must be >= 1, got {steps}")
        config.train.steps = steps
    history.append(
        {
            "action": "resume" if resume else "train",
            "steps": config.train.steps,
            "time": time.strftime("%Y-%m-%dT%H:%M:%S"),
        }
    )
    return _Plan(config, history, state, step, run_id)


def _build(config: Config, device: str | None, progress: bool) -> tuple[Trainer, Any]:
    """The trainer and the VAE it trains; the global generators are seeded here, once per run."""
    elbo = build_elbo(config)
    schedule = build_schedule(config)
    check_trackers(config)
    pyro.set_rng_seed(config.seed)
    train_data = build_dataset(config, training=True, progress=progress)
    if config.train.batch_size > len(train_data):
        raise ConfigError(
            f"train.batch_size={config.train.batch_size} is larger than the dataset "
            f"({len(train_data)} images); use a batch_size of at most {len(train_data)}"
        )
    vae = build_model(config, train_data).to(build_device(config, device))
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
        device=next(vae.parameters()).device,
    )
    return trainer, vae


def _restore(trainer: Trainer, run_dir: RunDirectory, plan: _Plan) -> list[dict[str, float]]:
    """Continue from the plan's checkpoint; the log rows up to its step."""
    if plan.state is None:
        return []
    try:
        trainer.load_state_dict(plan.state)
    except ParameterMismatch as err:
        raise ConfigError(
            f"the checkpoint of {run_dir.path} does not fit the model its config builds: {err}"
        ) from None
    run_dir.read_log()  # warns about damaged rows: the log is rewritten from the checkpoint
    return [r for r in plan.state["history"] if r["step"] <= plan.step]


def _trackers(
    run_dir: RunDirectory, plan: _Plan, vae: Any, data: Any, given: Sequence, options
) -> tuple:
    """``(opened, callbacks)``: the trackers ``[train] track`` opens, and the callbacks of those and
    of the ``given`` ones, with their pictures of the evaluation ``data`` at each checkpoint."""
    step = plan.step if plan.state is not None else 0
    opened = open_trackers(run_dir, plan.config, step=step, options=options)
    trackers = [*opened, *given]
    if not trackers:
        return [], []
    images = CheckpointImages(vae, data, trackers)
    return opened, [*((1, t) for t in trackers), (plan.config.train.checkpoint_every, images)]


def _estimate(plan: _Plan, vae: Any, data: Any) -> list:
    """The checkpoint's large-reference MI / TC / dwKL on the evaluation ``data``, before the saver
    so the checkpoint's history holds it (``train.estimate_points``; 0: none)."""
    points = plan.config.train.estimate_points
    if not points:
        return []
    estimate = CheckpointEstimate(vae, data, points=points, seed=plan.config.seed)
    return [(plan.config.train.checkpoint_every, estimate)]


def _run(trainer: Trainer, run_dir: RunDirectory, config: Config, saver: CheckpointSaver, log):
    """Train to ``config.train.steps``; divergence and latent-site errors said in the run's terms."""
    try:
        trainer.run(config.train.steps, on_log=log.append, on_interrupt=saver)
    except LatentSiteError as err:
        raise ConfigError(f"objective: {err}") from None
    except (FloatingPointError, ValueError, RuntimeError) as err:
        what = describe_divergence(err, trainer.step + 1, config.optim.lr)
        if what is None:
            raise
        raise diverged(run_dir.path, what, trainer.step, saver.last) from None
    saver(trainer)  # the final step (a no-op when a periodic checkpoint just saved it)


def _train(
    trainer: Trainer, run_dir: RunDirectory, plan: _Plan, saver: CheckpointSaver, tracking: tuple
) -> list:
    """Train to ``config.train.steps``, writing config.json, log.csv and checkpoints, and to the
    trackers (``tracking``: the VAE, the evaluation dataset, the caller's trackers,
    :class:`TrackingOptions`)."""
    config = plan.config
    rows = _restore(trainer, run_dir, plan)
    run_dir.write_config(saver.record)
    log = run_dir.open_log(rows)
    every = config.train.checkpoint_every
    trainer.callbacks += [
        (1, check_finite_parameters),
        *_estimate(plan, *tracking[:2]),
        (every, saver),
    ]
    opened, callbacks = _trackers(run_dir, plan, *tracking)
    trainer.callbacks += callbacks
    finished = False
    try:
        _run(trainer, run_dir, config, saver, log)
        finished = True
    finally:
        close_trackers(opened, failed=not finished)
    return log.rows


def _check_before_writing(run_dir: RunDirectory, config: Config | None, resume: bool) -> None:
    """Everything a run would be refused for, checked before anything is written."""
    run_dir.refuse_if_locked()  # a run being trained is refused first, naming the process
    check_resume(resume, ["a config"] if config is not None else [])
    if resume:
        run_dir.check_resumable()
    elif config is None:
        raise ConfigError("give a config (e.g. pyrodis.runs.presets.preset_config('beta-vae'))")
    else:
        check_eval(config)  # what evaluate would refuse
        run_dir.check_fresh()


def train_run(
    out: str | Path,
    config: Config | None = None,
    *,
    resume: bool = False,
    steps: int | None = None,
    progress: bool = True,
    device: str | None = None,
    trackers: Sequence[Tracker] = (),
    tracking: TrackingOptions | None = None,
) -> Run:
    """Train ``config`` into the run directory ``out``, or continue the run there (``resume``).

    ``steps`` is the run's total number of steps (it overrides ``config.train.steps``). A resumed
    run loads the newest good checkpoint and continues with exactly the batches, random numbers
    and optimiser state of an uninterrupted run; a run stopped before its first checkpoint starts
    again from step 0. Ctrl-C or SIGTERM finishes the step in flight, saves a checkpoint and
    raises :class:`~pyrodis.training.TrainingInterrupted`.

    One process trains a run at a time (:meth:`RunDirectory.lock
    <pyrodis.runs.run_directory.RunDirectory.lock>`; another gets
    :class:`~pyrodis.runs.run_directory.RunLocked` naming the holder's pid). ``out`` must be new,
    empty or, with ``resume``, a run. A loss or parameter that goes non-finite stops training with
    :class:`~pyrodis.runs.divergence.TrainingDiverged`; no non-finite checkpoint is written. A
    fresh run that fails before its first checkpoint leaves nothing behind.

    A decaying learning-rate schedule (``cosine``) is timed by the run's total: resuming to the
    same total reproduces the uninterrupted run exactly; extending the total re-times the rest of
    the decay (from the resumed step on, as if the run had been planned that long).
    ``device`` overrides ``config.train.device`` (e.g. to resume a GPU run on a CPU: the
    checkpoint loads on any device). ``[train] track`` names the run's experiment trackers
    (:mod:`pyrodis.runs.tracking`); ``trackers`` adds tracker objects of the caller's and
    ``tracking`` the MLflow experiment, tags and parameters of the run (a study's).
    """
    run_dir = RunDirectory(out)
    _check_before_writing(run_dir, config, resume)
    created = run_dir.create()
    with run_dir.lock():
        saver = None
        try:
            plan = _plan(run_dir, config, resume, steps)
            record = run_dir.record(plan.config, plan.history, plan.run_id)
            last = plan.step if plan.state is not None else None
            saver = run_dir.checkpoint_saver(plan.config.train.keep_checkpoints, record, last)
            trainer, vae = _build(plan.config, device, progress)
            # built once: the checkpoint estimate, the trackers' pictures and the Run share it
            eval_data = build_dataset(plan.config, training=False, progress=progress)
            rows = _train(trainer, run_dir, plan, saver, (vae, eval_data, trackers, tracking))
        except BaseException as err:
            removed = not resume and (saver is None or not saver.written)
            if removed:
                remove_tracking(run_dir)
                run_dir.remove_half_made(created)
            if isinstance(err, FileWriteError):  # a full disk: say what is kept
                raise write_failed(run_dir.path, err, saver and saver.last, removed) from None
            raise
    return Run(run_dir.path, plan.config, vae.eval(), eval_data, rows, None, trainer.step)
