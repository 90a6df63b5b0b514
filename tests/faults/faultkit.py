"""Helpers of the fault suite: the real ``pyrodis`` CLI in subprocesses (signals, kill -9,
concurrent writers) or in this process (``pyrodis.cli.main``) on a tiny run."""

import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from pyrodis.cli import main
from pyrodis.openmp import set_passive_wait

REPO = Path(__file__).resolve().parents[2]

#: a tiny run: 3 latents, batches of 8, a log row every step, a checkpoint every 10 steps
TINY = [
    "--preset",
    "beta-vae",
    "--seed",
    "5",
    "--set",
    "model.latent_dim=3",
    "--set",
    "train.batch_size=8",
    "--set",
    "train.log_every=1",
    "--set",
    "train.checkpoint_every=10",
    "--set",
    "train.keep_checkpoints=2",
    "--set",
    "eval.num_points=256",
    "--no-progress",
]


def spawn(*args: str) -> subprocess.Popen:
    """``python -m pyrodis ARGS`` from this checkout, single-threaded, in a subprocess."""
    env = set_passive_wait(dict(os.environ, OMP_NUM_THREADS="1"))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return subprocess.Popen(
        [sys.executable, "-m", "pyrodis", *args],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(proc: subprocess.Popen, timeout: float = 300) -> tuple[int, str]:
    """Wait for ``proc``; its exit code and stderr."""
    _, err = proc.communicate(timeout=timeout)
    return proc.returncode, err


def logged_step(run: Path) -> int:
    """The last step in ``run``/log.csv (0 before the first row)."""
    try:
        lines = (run / "log.csv").read_text().strip().splitlines()
    except FileNotFoundError:
        return 0
    try:
        return int(lines[-1].split(",")[0]) if len(lines) > 1 else 0
    except ValueError:  # a row being written
        return 0


def wait_for_step(proc: subprocess.Popen, run: Path, step: int, timeout: float = 300) -> None:
    """Poll until ``run`` has logged ``step`` (fail if ``proc`` ends first)."""
    deadline = time.monotonic() + timeout
    while logged_step(run) < step:
        if proc.poll() is not None:
            pytest.fail(
                f"training ended (exit {proc.returncode}) before step {step}: {proc.stderr.read()}"
            )
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"no step {step} after {timeout} s")
        time.sleep(0.01)


def interrupt(proc: subprocess.Popen, sig: int = signal.SIGINT) -> tuple[int, str]:
    proc.send_signal(sig)
    return finish(proc)


def log_rows(run: Path) -> list[dict[str, str]]:
    """log.csv without the wall-clock column."""
    with open(run / "log.csv", newline="") as fh:
        return [{k: v for k, v in r.items() if k != "images_per_s"} for r in csv.DictReader(fh)]


def resume_here(run: Path, steps: int) -> None:
    """``pyrodis train --resume`` in this process, single-threaded like the subprocesses (the
    same arithmetic bit for bit, without another interpreter's start-up)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        assert main(["train", "--resume", str(run), "--steps", str(steps), "--no-progress"]) == 0
    finally:
        torch.set_num_threads(threads)
