"""One writer per run, --out that is not a run, half-made runs, and divergence."""

import json
import signal

import pytest
import torch
from faultkit import TINY, finish, log_rows, spawn, wait_for_step

from pyrodis.cli import main
from pyrodis.runs import load_run
from pyrodis.training import Trainer


def test_a_run_being_trained_refuses_a_second_writer_and_reads_consistently(tmp_path, capsys):
    run = tmp_path / "run"
    proc = spawn("train", *TINY, "--steps", "1000", "--out", str(run))
    try:
        wait_for_step(proc, run, 11)
        config = (run / "config.json").read_text()
        assert main(["train", *TINY, "--steps", "5", "--out", str(run)]) == 2
        assert f"is being trained by pid {proc.pid}" in capsys.readouterr().err
        assert main(["train", "--resume", str(run), "--no-progress"]) == 2
        assert f"is being trained by pid {proc.pid}" in capsys.readouterr().err
        assert (run / "config.json").read_text() == config  # the refused ones wrote nothing
        loaded = load_run(run)  # a reader while it trains: one consistent checkpoint
        assert loaded.step % 10 == 0 and loaded.step >= 10
        assert [r["step"] for r in loaded.history] == list(range(1, loaded.step + 1))
        proc.send_signal(signal.SIGTERM)
        code, err = finish(proc)
    finally:
        proc.kill()
    assert code == 130, err
    stopped = int(err.split("interrupted at step ")[1].split(";")[0])
    # the dead process's lock file stays behind, naming it: stale, so it is taken over
    assert (run / ".lock").read_text() == str(proc.pid)
    assert main(["train", "--resume", str(run), "--steps", str(stopped + 2), "--no-progress"]) == 0
    assert load_run(run).step == stopped + 2


def test_out_at_a_directory_that_is_not_a_run_is_refused_untouched(tmp_path, capsys):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "log.csv").write_text("my own data\n")
    assert main(["train", *TINY, "--steps", "2", "--out", str(mine)]) == 2
    err = capsys.readouterr().err
    assert f"--out {mine} is a non-empty directory that is not a pyrodis run" in err
    assert [p.name for p in mine.iterdir()] == ["log.csv"]
    assert (mine / "log.csv").read_text() == "my own data\n"
    empty = tmp_path / "empty"
    empty.mkdir()  # an empty directory is fine
    assert main(["train", *TINY, "--steps", "1", "--out", str(empty)]) == 0


def test_a_half_made_run_points_at_resume_which_starts_it_from_step_0(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", *TINY, "--steps", "3", "--out", str(run)]) == 0
    expected = log_rows(run)
    for path in (run / "checkpoints").iterdir():  # as if killed before its first checkpoint
        path.unlink()
    capsys.readouterr()
    assert main(["train", *TINY, "--steps", "3", "--out", str(run)]) == 2
    err = capsys.readouterr().err
    assert "already holds a run (it stopped before its first checkpoint" in err
    assert f"pyrodis train --resume {run}" in err
    assert main(["evaluate", str(run)]) == 2
    assert f"continue it from step 0 with `pyrodis train --resume {run}`" in capsys.readouterr().err
    assert main(["train", "--resume", str(run), "--no-progress"]) == 0
    assert log_rows(run) == expected


def test_a_run_that_fails_before_its_first_checkpoint_leaves_nothing(tmp_path, capsys):
    run = tmp_path / "run"
    bad = ["--set", "objective.latent_sites=['nope']"]
    assert main(["train", *TINY, *bad, "--steps", "2", "--out", str(run)]) == 2
    assert "latent site 'nope' is not a sample site of the guide" in capsys.readouterr().err
    assert not run.exists()


def test_divergence_from_the_start_says_so_and_keeps_nothing(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", *TINY, "--set", "optim.lr=1e38", "--steps", "5", "--out", str(run)]) == 1
    err = capsys.readouterr().err
    assert err.count("error:") == 1 and "Traceback" not in err
    assert "training diverged:" in err and "at step 1" in err and "non-finite" in err
    assert "No checkpoint had been written yet" in err and "lower optim.lr" in err
    assert not run.exists()


def test_an_adam_step_that_overflows_float32_is_a_divergence(tmp_path, capsys, monkeypatch):
    """lr / (1 - beta1) = 1e39 does not fit float32: Adam's multi-tensor path (torch's default
    on a GPU) raises "value cannot be converted to type float without overflow" (the cpu budget's
    warm-up makes step 1's rate small enough; the paper budget's constant rate does not)."""
    original = torch.optim.Adam.__init__

    def as_on_a_gpu(self, params, *args, **kwargs):
        original(self, params, *args, **{"foreach": True, **kwargs})

    monkeypatch.setattr(torch.optim.Adam, "__init__", as_on_a_gpu)
    run = tmp_path / "run"
    flags = ["--set", "optim.lr=1e38", "--budget", "paper", "--steps", "5"]
    assert main(["train", *TINY, *flags, "--out", str(run)]) == 1
    err = capsys.readouterr().err
    assert err.count("error:") == 1 and "Traceback" not in err
    assert "training diverged: the optimiser's step overflowed float32 at step 1" in err
    assert "optim.lr=1e+38" in err and "lower optim.lr" in err
    assert not run.exists()


@pytest.mark.parametrize("how", ["parameters", "loss"])
def test_divergence_keeps_the_last_good_checkpoint_for_resume(tmp_path, capsys, monkeypatch, how):
    original = Trainer.train_step

    def diverge_at_13(self, x, idx):
        if how == "loss" and self.step == 12:
            self.elbo.loss_and_grads = lambda *a, **k: float("nan")
        terms = original(self, x, idx)
        if self.step == 12:  # the step that makes step 13 (0-based in flight)
            with torch.no_grad():
                next(iter(self.params().values())).fill_(float("inf"))
        return terms

    monkeypatch.setattr(Trainer, "train_step", diverge_at_13)
    run = tmp_path / "run"
    assert main(["train", *TINY, "--steps", "30", "--out", str(run)]) == 1
    err = capsys.readouterr().err
    assert err.count("error:") == 1 and "training diverged:" in err
    assert "at step 13 (non-finite: " in err  # the step log.csv would have labelled 13
    assert "The last good checkpoint, step 10" in err and "--resume use it" in err
    manifest = json.loads((run / "checkpoints" / "latest.json").read_text())
    assert [e["step"] for e in manifest["checkpoints"]] == [10]
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == [
        "latest.json",
        "step_00000010.pt",
    ]
    monkeypatch.undo()
    assert load_run(run).step == 10
    assert main(["train", "--resume", str(run), "--steps", "11", "--no-progress"]) == 0
    assert [r["step"] for r in log_rows(run)][-2:] == ["10", "11"]


def test_a_pyro_validation_error_about_nan_parameters_reads_as_divergence():
    from pyrodis.runs.divergence import describe_divergence

    with pytest.raises(ValueError) as info:
        torch.distributions.Normal(torch.tensor([float("nan")]), 1.0, validate_args=True)
    assert describe_divergence(info.value, 7) == (
        "the Normal loc of the model or guide became non-finite at step 7"
    )
    assert describe_divergence(ValueError("an unrelated bug"), 7) is None
