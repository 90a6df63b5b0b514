"""A tracked run from the user's side (``[train] track``, ``pyrodis train --track``): what
TensorBoard's reader and MLflow's client read back after training, resuming and evaluating, and a
tracker that fails leaves the run exactly as an untracked one."""

import json
import subprocess
import sys
import warnings

import pytest
import torch
from kit.tracking import TC_TRAINING_TAGS, read_events

from pyrodis.runs import ConfigError, RunDirectory, evaluate_run, preset_config, train_run
from pyrodis.runs.config import merge
from pyrodis.training.trackers import TensorBoardTracker, TrackerWarning

tb_reader = pytest.importorskip(
    "tensorboard.backend.event_processing.event_accumulator",
    reason='the tracking tests need pip install "pyrodis[track]"',
)
mlflow = pytest.importorskip(
    "mlflow", reason='the tracking tests need pip install "pyrodis[track]"'
)


@pytest.fixture(autouse=True)
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a SQLite store keeps artefacts in ./mlruns (MLflow's default)


def tiny(track, steps=8):
    small = {
        "model": {"architecture": "burgess", "latent_dim": 3},
        "optim": {"warmup_steps": 0},
        "train": {"steps": steps, "batch_size": 8, "log_every": 2, "checkpoint_every": 4},
        "eval": {"metrics": ["mig"], "options": {"mig": {"num_train": 200}}},
    }
    return merge(
        preset_config("beta-tcvae"), {**small, "train": {**small["train"], "track": track}}
    )


def mlflow_run(run_path):
    saved = json.loads((run_path / "tracking.json").read_text())["mlflow"]
    client = mlflow.MlflowClient(saved["tracking_uri"])
    return client, client.get_run(saved["run_id"])


def log_rows(run_path):
    return RunDirectory(run_path).read_log()


class Killed(RuntimeError):
    pass


class KillAt(TensorBoardTracker):
    """Stands for a process killed at ``step`` (after its checkpoint, before the next)."""

    def __init__(self, logdir, step):
        super().__init__(logdir)
        self.at = step

    def __call__(self, trainer, terms):
        if trainer.step == self.at:
            raise Killed(f"killed at step {trainer.step}")


def test_a_run_and_its_resume_read_back_with_continuous_steps(tmp_path):
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    run = tmp_path / "run"
    with pytest.raises(Killed):  # logged rows 2, 4, 6; its newest checkpoint is step 4
        train_run(run, tiny(["tensorboard", f"mlflow:{uri}"], steps=10), progress=False,
                  trackers=[KillAt(tmp_path / "unused", 7)])  # fmt: skip
    client, first = mlflow_run(run)
    assert first.info.status == "KILLED"
    train_run(run, resume=True, progress=False)
    rows = log_rows(run)
    assert [r["step"] for r in rows] == [2, 4, 6, 8, 10]

    tb = read_events(run / "tensorboard")
    assert set(TC_TRAINING_TAGS) <= set(tb.Tags()["scalars"])
    for tag, column in (("elbo/tc_mss", "tc_mss"), ("elbo/kl", "kl")):
        got = tb.Scalars(tag)
        assert [e.step for e in got] == [2, 4, 6, 8, 10]  # 6 once: the lost one was purged
        assert [e.value for e in got] == pytest.approx([r[column] for r in rows], rel=1e-6)
    ref = tb.Scalars("elbo/tc_ref")  # the checkpoints' large-reference estimate
    assert [e.step for e in ref] == [4, 8]
    assert [e.value for e in ref] == pytest.approx(
        [r["tc_ref"] for r in rows if r["step"] in (4, 8)]
    )
    assert [i.step for i in tb.Images("traversals")] == [4, 8]
    assert [i.step for i in tb.Images("reconstructions")] == [4, 8]
    assert "_hparams_/session_start_info" in tb.PluginTagToContent("hparams")

    _, again = mlflow_run(run)
    assert again.info.run_id == first.info.run_id and again.info.status == "FINISHED"
    assert client.get_experiment(again.info.experiment_id).name == "pyrodis"
    history = client.get_metric_history(again.info.run_id, "elbo/tc_mss")
    assert sorted(m.step for m in history) == [2, 4, 6, 8, 10]  # no step twice, no gap
    by_step = {m.step: m.value for m in history}
    assert [by_step[r["step"]] for r in rows] == pytest.approx([r["tc_mss"] for r in rows])
    assert again.data.params["objective.name"] == "beta-tcvae"
    assert again.data.params["train.batch_size"] == "8"
    assert again.data.tags["pyrodis.run_dir"] == str(run.resolve())
    files = {a.path for a in client.list_artifacts(again.info.run_id)}
    assert {"config.json", "images"} <= files


def test_evaluate_logs_every_metric_and_the_kl_per_latent(tmp_path):
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    run = tmp_path / "run"
    train_run(run, tiny(["tensorboard", f"mlflow:{uri}"]), progress=False)
    result = evaluate_run(run)
    expected = result.to_dict()["mig"]["mig"]["value"]
    tb = read_events(run / "tensorboard")
    (mig,) = tb.Scalars("metrics/mig.mig")
    assert (mig.step, mig.value) == (8, pytest.approx(expected))
    kl = [tb.Scalars(f"kl/z{j}")[0].value for j in range(3)]
    assert all(v >= 0 for v in kl)
    assert tb.Scalars("kl/total")[0].value == pytest.approx(sum(kl), rel=1e-5)
    client, logged = mlflow_run(run)
    assert logged.data.metrics["metrics/mig.mig"] == pytest.approx(expected)
    assert logged.data.metrics["kl/z2"] == pytest.approx(kl[2], rel=1e-5)


class FullDisk(TensorBoardTracker):
    def _scalars(self, step, values):
        raise OSError(28, "No space left on device")

    def _images(self, step, images):
        raise OSError(28, "No space left on device")


def test_a_failing_tracker_leaves_log_and_checkpoints_as_an_untracked_run(tmp_path):
    from pyrodis.runs.checkpoint import load_latest_checkpoint

    train_run(tmp_path / "plain", tiny([]), progress=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        train_run(tmp_path / "tracked", tiny(["tensorboard"]), progress=False,
                  trackers=[FullDisk(tmp_path / "full")])  # fmt: skip
    assert len([w for w in caught if issubclass(w.category, TrackerWarning)]) == 1
    plain, tracked = log_rows(tmp_path / "plain"), log_rows(tmp_path / "tracked")
    columns = [k for k in plain[0] if k != "images_per_s"]
    assert [[r[k] for k in columns] for r in plain] == [[r[k] for k in columns] for r in tracked]
    a, step_a = load_latest_checkpoint(tmp_path / "plain" / "checkpoints")
    b, step_b = load_latest_checkpoint(tmp_path / "tracked" / "checkpoints")
    assert step_a == step_b == 8
    for name, tensor in a["params"].items():
        assert torch.equal(tensor, b["params"][name]), name


def test_bad_and_missing_trackers_are_clear_errors(tmp_path, monkeypatch):
    with pytest.raises(ConfigError, match=r"train\.track: 'wandb' is not a tracker"):
        tiny(["wandb"])
    monkeypatch.setitem(sys.modules, "mlflow", None)
    with pytest.raises(ConfigError, match=r'pip install "pyrodis\[mlflow\]"'):
        train_run(tmp_path / "run", tiny(["mlflow"]), progress=False)
    assert not (tmp_path / "run").exists()  # nothing half-made is left


def test_the_cli_flag_tracks_into_the_run_directory(tmp_path):
    cmd = [sys.executable, "-m", "pyrodis", "train", "--preset", "beta-vae", "--no-progress"]
    cmd += ["--set", "model.architecture=burgess", "--set", "model.latent_dim=2"]
    cmd += ["--set", "train.batch_size=8", "--set", "train.log_every=2", "--steps", "4"]
    cmd += ["--track", "tensorboard", "--out", str(tmp_path / "run")]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert done.returncode == 0, done.stderr
    config = json.loads((tmp_path / "run" / "config.json").read_text())["config"]
    assert config["train"]["track"] == ["tensorboard"]
    assert [e.step for e in read_events(tmp_path / "run" / "tensorboard").Scalars("elbo/kl")] == [
        2,
        4,
    ]
    bad = subprocess.run([*cmd[:-2], "--track", "wandb", "--out", str(tmp_path / "b")],
                         capture_output=True, text=True, cwd=tmp_path, timeout=300)  # fmt: skip
    assert bad.returncode != 0 and "train.track" in bad.stderr and "Traceback" not in bad.stderr
