"""Interrupts and kills of the real CLI, then --resume: the log equals an uninterrupted run's.

SIGINT and SIGTERM land on a step boundary (the step in flight finishes, a checkpoint of that
step is saved, exit code 130); kill -9, even while a checkpoint is being written, loses only the
steps since the last checkpoint. Either way ``--resume`` reproduces the uninterrupted log.csv.
"""

import hashlib
import json
import os
import random
import signal
import time

import pytest
import torch
from faultkit import (
    TINY,
    finish,
    interrupt,
    log_rows,
    logged_step,
    resume_here,
    spawn,
    wait_for_step,
)

from pyrodis.cli import main

STEPS = 30


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """An uninterrupted run, started in the background (the tests run beside it)."""
    run = tmp_path_factory.mktemp("reference") / "run"
    proc = spawn("train", *TINY, "--steps", str(STEPS), "--out", str(run))
    yield proc, run
    if proc.poll() is None:
        proc.kill()


def reference_log(reference):
    proc, run = reference
    code, err = finish(proc)
    assert code == 0, err
    return log_rows(run)


def test_sigint_and_sigterm_at_three_random_points_then_resume_is_exact(reference, tmp_path):
    rng = random.Random(20261130)
    run = tmp_path / "run"
    proc = spawn("train", *TINY, "--steps", str(STEPS), "--out", str(run))
    stopped = 0
    signals = [signal.SIGINT, signal.SIGTERM, signal.SIGINT]
    for i, sig in enumerate(signals):
        target = stopped + rng.randint(2, 8)
        wait_for_step(proc, run, target)
        code, err = interrupt(proc, sig)
        assert code == 130, err
        assert "interrupted at step" in err and f"--resume {run}" in err
        stopped = int(err.split("interrupted at step ")[1].split(";")[0])
        assert stopped >= target
        manifest = json.loads((run / "checkpoints" / "latest.json").read_text())
        assert manifest["checkpoints"][-1]["step"] == stopped  # saved on the step boundary
        state = torch.load(
            run / "checkpoints" / f"step_{stopped:08d}.pt", weights_only=True, map_location="cpu"
        )
        assert state["step"] == stopped and len(state["history"]) == stopped
        if i < len(signals) - 1:
            proc = spawn("train", "--resume", str(run), "--steps", str(STEPS), "--no-progress")
    resume_here(run, STEPS)
    assert log_rows(run) == reference_log(reference)
    history = json.loads((run / "config.json").read_text())["history"]
    assert [h["action"] for h in history] == ["train", "resume", "resume", "resume"]


def test_kill_9_during_a_checkpoint_write_then_resume_is_exact(reference, tmp_path):
    run = tmp_path / "run"
    proc = spawn("train", *TINY, "--steps", str(STEPS), "--out", str(run))
    wait_for_step(proc, run, 11)  # step 10 is checkpointed; kill while step 20 is written
    checkpoints, caught = run / "checkpoints", False
    while proc.poll() is None and logged_step(run) < 21:
        if any(name.startswith(".step_00000020") for name in os.listdir(checkpoints)):
            caught = True
            break
        time.sleep(0.0005)
    proc.send_signal(signal.SIGKILL)
    finish(proc)
    assert proc.returncode == -signal.SIGKILL
    manifest = json.loads((checkpoints / "latest.json").read_text())
    for entry in manifest["checkpoints"]:  # every listed checkpoint is whole and verified
        data = (checkpoints / entry["file"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"]
    resume_here(run, STEPS)
    assert not [p.name for p in checkpoints.iterdir() if p.name.startswith(".")]  # temporaries
    assert log_rows(run) == reference_log(reference)
    print(f"killed {'during' if caught else 'outside'} a checkpoint write")


def test_an_interrupt_right_after_a_periodic_checkpoint_keeps_that_checkpoint(
    tmp_path, monkeypatch
):
    """In-process with a real SIGINT, delivered the moment the step-10 checkpoint is written."""
    from pyrodis.runs import run_directory

    args = ["train", *TINY, "--set", "train.keep_checkpoints=5"]
    assert main([*args, "--steps", "20", "--out", str(tmp_path / "straight")]) == 0
    saved = {}
    original = run_directory.CheckpointSaver.__call__

    def save_then_signal(self, trainer, *rest):
        original(self, trainer, *rest)
        if trainer.step == 10 and not saved:
            path = tmp_path / "run" / "checkpoints" / "step_00000010.pt"
            saved["bytes"] = path.read_bytes()
            os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(run_directory.CheckpointSaver, "__call__", save_then_signal)
    assert main([*args, "--steps", "20", "--out", str(tmp_path / "run")]) == 130
    path = tmp_path / "run" / "checkpoints" / "step_00000010.pt"
    assert path.read_bytes() == saved["bytes"]  # not rewritten by the interrupt
    monkeypatch.undo()
    assert main(["train", "--resume", str(tmp_path / "run"), "--no-progress"]) == 0
    assert log_rows(tmp_path / "run") == log_rows(tmp_path / "straight")
