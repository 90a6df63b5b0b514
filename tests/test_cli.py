import csv
import json

import pytest
import torch

from pyrodis.cli import main
from pyrodis.runs import load_run

TINY = [
    "--set",
    "train.batch_size=8",
    "--set",
    "train.log_every=1",
    "--set",
    "train.checkpoint_every=2",
    "--set",
    "model.latent_dim=4",
    "--set",
    "eval.num_points=256",
    "--set",
    "eval.options={mig={num_train=500}, unsupervised={num_train=500}}",
    "--no-progress",
]


def read_log(run):
    with open(run / "log.csv", newline="") as fh:
        return list(csv.DictReader(fh))


def test_train_resume_matches_uninterrupted_run(tmp_path, capsys):
    straight, split = tmp_path / "straight", tmp_path / "split"
    args = ["train", "--preset", "beta-tcvae", "--dataset", "dsprites", "--seed", "3", *TINY]
    assert main([*args, "--steps", "6", "--out", str(straight)]) == 0
    assert main([*args, "--steps", "3", "--out", str(split)]) == 0
    assert main(["train", "--resume", str(split), "--steps", "6", "--no-progress"]) == 0
    a, b = read_log(straight), read_log(split)
    assert [r["step"] for r in b] == ["1", "2", "3", "4", "5", "6"]
    for ra, rb in zip(a, b):
        for key in ("loss", "recon", "kl", "mi_mss", "tc_mss", "dwkl_mss"):
            assert float(ra[key]) == float(rb[key]), key
    config = json.loads((split / "config.json").read_text())
    assert config["config"]["train"]["steps"] == 6
    assert [h["action"] for h in config["history"]] == ["train", "resume"]
    run = load_run(split)
    assert run.step == 6 and run.elbo_name == "beta-tcvae" and len(run.history) == 6
    codes = run.vae.representation()(run.dataset.observations(run.dataset.sample_factors(5, 0)))
    assert codes.shape == (5, 4)
    out = capsys.readouterr().out
    assert "trained" in out and "pyrodis evaluate" in out

    # evaluate and report work on the run directory afterwards
    assert (
        main(
            [
                "evaluate",
                str(split),
                "--metrics",
                "mig,unsupervised",
                "--repeats",
                "2",
                "--set",
                "mig.num_bins=10",
            ]
        )
        == 0
    )
    metrics = json.loads((split / "metrics.json").read_text())
    assert metrics["step"] == 6
    assert metrics["protocol_overrides"]["mig"] == {"num_train": 500, "num_bins": 10}
    assert set(metrics["mig"]["mig"]) >= {"mean", "std", "ci_low", "ci_high"}
    assert "mig" in capsys.readouterr().out
    assert load_run(split).metrics == metrics
    assert main(["report", str(split)]) == 0
    html = (split / "report.html").read_text()
    assert "data:image/png;base64," in html and "mig" in html.lower()
    assert json.loads((split / "report.json").read_text())


def test_suite_on_a_trained_run_is_reproducible_under_a_seed(tmp_path):
    from pyrodis.runs.evaluate import evaluate_run

    run = tmp_path / "run"
    args = ["train", "--preset", "beta-tcvae", "--steps", "4", "--out", str(run), *TINY]
    assert main(args) == 0
    small = {
        "mig": {"num_train": 300},
        "dci": {"num_train": 300, "num_test": 150},
        "sap": {"num_train": 300, "num_test": 150},
        "factor_vae": {"num_train": 30, "num_eval": 15, "num_variance_estimate": 300},
        "unsupervised": {"num_train": 300},
    }
    names = list(small)

    def values(seed):
        result = evaluate_run(run, metrics=names, options=small, seed=seed)
        return {m: {k: v["value"] for k, v in subs.items()} for m, subs in result.to_dict().items()}

    first, again, other = values(5), values(5), values(6)
    assert first == again
    assert first != other


@pytest.mark.parametrize("preset", ["factor-vae", "annealed-vae", "dip-vae-ii"])
def test_resume_is_exact_for_stateful_objectives(tmp_path, preset):
    """The discriminator, its optimiser, the capacity counter survive a checkpoint exactly."""
    args = ["train", "--preset", preset, "--seed", "1", *TINY]
    assert main([*args, "--steps", "4", "--out", str(tmp_path / "a")]) == 0
    assert main([*args, "--steps", "2", "--out", str(tmp_path / "b")]) == 0
    assert main(["train", "--resume", str(tmp_path / "b"), "--no-progress", "--steps", "4"]) == 0
    a, b = read_log(tmp_path / "a"), read_log(tmp_path / "b")
    assert len(a) == len(b) == 4
    for ra, rb in zip(a, b):
        assert {k: v for k, v in ra.items() if k != "images_per_s"} == {
            k: v for k, v in rb.items() if k != "images_per_s"
        }


def test_train_refuses_to_overwrite_and_bad_config_is_clear(tmp_path, capsys):
    run = tmp_path / "run"
    args = ["train", "--preset", "beta-vae", "--steps", "1", "--out", str(run), *TINY]
    assert main(args) == 0
    assert main(args) == 2
    assert "already holds a run" in capsys.readouterr().err
    assert (
        main(
            ["train", "--preset", "beta-vae", "--set", "optim.lrr=1", "--out", str(tmp_path / "x")]
        )
        == 2
    )
    assert "did you mean 'lr'" in capsys.readouterr().err
    assert (
        main(
            [
                "train",
                "--preset",
                "beta-vae",
                "--set",
                "objective.betta=1",
                "--out",
                str(tmp_path / "y"),
            ]
        )
        == 2
    )
    assert "no parameter 'betta'" in capsys.readouterr().err
    assert main(["train", "--preset", "nope"]) == 2
    assert "unknown preset" in capsys.readouterr().err
    assert (
        main(["train", "--preset", "beta-vae", "--dataset", "mnist", "--out", str(tmp_path / "z")])
        == 2
    )
    assert "unknown dataset 'mnist'" in capsys.readouterr().err
    assert main(["train", "--resume", str(run), "--steps", "0"]) == 2
    assert "already at step 1" in capsys.readouterr().err
    assert main(["evaluate", str(tmp_path / "nothing")]) == 2
    assert "not a pyrodis run" in capsys.readouterr().err
    assert main(["evaluate", str(run), "--metrics", "mig", "--set", "mig.bins=3"]) == 2
    assert "cannot evaluate" in capsys.readouterr().err
    assert main(["evaluate", str(run), "--metrics", "nope"]) == 2
    assert "unknown metrics" in capsys.readouterr().err
    assert not any((tmp_path / d).exists() for d in "xyz")


def test_dry_run_shows_resolved_config(tmp_path, capsys):
    cfg = tmp_path / "c.toml"
    cfg.write_text('[objective]\nname = "factor-vae"\ngamma = 20.0\n[train]\nsteps = 9\n')
    assert main(["train", "--config", str(cfg), "--set", "optim.lr=0.01", "--dry-run"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["objective"] == {"name": "factor-vae", "gamma": 20.0}
    assert shown["train"]["steps"] == 9 and shown["optim"]["lr"] == 0.01


def test_listing_commands_and_help(capsys):
    assert main(["presets"]) == 0
    assert "beta-tcvae" in capsys.readouterr().out
    assert main(["datasets"]) == 0
    out = capsys.readouterr().out
    assert "dsprites" in out and "shapes3d" in out
    for command in ("train", "evaluate", "report"):
        with pytest.raises(SystemExit) as info:
            main([command, "--help"])
        assert info.value.code == 0
        assert "usage: pyrodis " + command in capsys.readouterr().out


def test_a_second_interrupt_mid_step_saves_nothing_and_resume_continues(
    tmp_path, monkeypatch, capsys
):
    """A KeyboardInterrupt inside a step (a second Ctrl-C) stops at once: the half-applied step
    is never saved, and --resume continues from the last checkpoint."""
    from pyrodis.training.trainer import Trainer

    original = Trainer.train_step

    def flaky(self, x, idx):
        if self.step == 2 and not getattr(flaky, "done", False):
            flaky.done = True
            original(self, x, idx)  # the parameters move, the step counter does not
            raise KeyboardInterrupt
        return original(self, x, idx)

    monkeypatch.setattr(Trainer, "train_step", flaky)
    run = tmp_path / "run"
    base = ["train", "--preset", "factor-vae", *TINY]
    assert main([*base, "--steps", "5", "--out", str(run)]) == 130
    err = capsys.readouterr().err
    assert "second interrupt" in err and "Continue with: pyrodis train --resume" in err
    manifest = json.loads((run / "checkpoints" / "latest.json").read_text())
    assert [e["step"] for e in manifest["checkpoints"]][-1] == 2  # the periodic one, untouched
    state = torch.load(run / "checkpoints" / "step_00000002.pt", weights_only=True)
    assert state["step"] == 2 and state["elbo"]
    assert main(["train", "--resume", str(run), "--steps", "5", "--no-progress"]) == 0
    assert [r["step"] for r in read_log(run)] == ["1", "2", "3", "4", "5"]
    monkeypatch.undo()
    assert main([*base, "--steps", "5", "--out", str(tmp_path / "straight")]) == 0
    drop = lambda rows: [{k: v for k, v in r.items() if k != "images_per_s"} for r in rows]  # noqa: E731
    assert drop(read_log(run)) == drop(read_log(tmp_path / "straight"))
