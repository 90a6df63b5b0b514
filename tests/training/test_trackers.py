"""The experiment trackers as a Python user meets them: ``fit(..., callbacks=[tracker])`` with
their own Pyro model, and what TensorBoard's reader and MLflow's client read back."""

import sys
import warnings

import numpy as np
import pyro
import pyro.distributions as dist
import pytest
import torch
from kit.tracking import TC_TRAINING_TAGS, read_events
from kit.user_model import make_user_model

from pyrodis.inference import TCELBO
from pyrodis.training import MLflowTracker, TensorBoardTracker, fit
from pyrodis.training.trackers import Tracker, TrackerUnavailable, TrackerWarning, image_grid

tb_reader = pytest.importorskip(
    "tensorboard.backend.event_processing.event_accumulator",
    reason='the TensorBoard tests need pip install "pyrodis[tensorboard]"',
)


def user_model(num_data):
    return make_user_model(num_data, likelihood=dist.Normal)


DATA = torch.randn(64, 6, generator=torch.Generator().manual_seed(0))


def train(callbacks=(), steps=20):
    pyro.clear_param_store()
    pyro.set_rng_seed(0)
    model, guide = user_model(len(DATA))
    elbo = TCELBO(beta=4.0)
    kw = dict(steps=steps, batch_size=16, lr=1e-2, log_every=5, progress=False, seed=3)
    return fit(model, guide, elbo, DATA, callbacks=list(callbacks), **kw)


def test_tensorboard_holds_every_term_of_every_history_row(tmp_path):
    tracker = TensorBoardTracker(tmp_path / "tb")
    history = train([tracker])
    events = read_events(tmp_path / "tb")
    assert {*TC_TRAINING_TAGS, "train/images_per_s"} <= set(events.Tags()["scalars"])
    for tag, column in (("elbo/tc_mss", "tc_mss"), ("elbo/kl", "kl"), ("train/lr", "lr")):
        got = events.Scalars(tag)
        assert [e.step for e in got] == [5, 10, 15, 20]
        np.testing.assert_allclose([e.value for e in got], history.column(column), rtol=1e-6)


def test_tensorboard_images_and_hparams_read_back(tmp_path):
    tracker = TensorBoardTracker(tmp_path / "tb")
    grid = image_grid(torch.rand(2, 3, 1, 4, 5))
    assert grid.shape == (2 * 5 + 1, 3 * 6 + 1, 3) and grid.dtype == np.uint8
    tracker.log_images(7, {"traversals": grid})
    tracker.log_params({"optim": {"lr": 1e-3, "betas": [0.9, 0.999]}, "seed": 2, "preset": None})
    tracker.close()
    events = read_events(tmp_path / "tb")
    (image,) = events.Images("traversals")
    assert (image.step, image.height, image.width) == (7, 11, 19)
    from tensorboard.plugins.hparams import plugin_data_pb2

    content = events.PluginTagToContent("hparams")["_hparams_/session_start_info"]
    start = plugin_data_pb2.HParamsPluginData.FromString(content).session_start_info
    assert start.hparams["optim.lr"].number_value == pytest.approx(1e-3)
    assert start.hparams["optim.betas"].string_value == "[0.9, 0.999]"
    assert start.hparams["seed"].number_value == 2
    assert start.hparams["preset"].string_value == "none"


def test_tensorboard_purge_step_continues_without_duplicate_steps(tmp_path):
    first = TensorBoardTracker(tmp_path / "tb")
    for step in (5, 10, 15):  # the process died after its checkpoint at 10, having logged 15
        first.log_scalars(step, {"elbo/kl": float(step)})
    first.close()
    again = TensorBoardTracker(tmp_path / "tb", purge_step=11)
    for step in (15, 20):
        again.log_scalars(step, {"elbo/kl": 100.0 + step})
    again.close()
    got = [(e.step, e.value) for e in read_events(tmp_path / "tb").Scalars("elbo/kl")]
    assert got == [(5, 5.0), (10, 10.0), (15, 115.0), (20, 120.0)]


class FailingTracker(TensorBoardTracker):
    """A tracker whose disk fills up after its second write."""

    def __init__(self, logdir):
        super().__init__(logdir)
        self.writes = 0

    def _scalars(self, step, values):
        self.writes += 1
        if self.writes > 2:
            raise OSError(28, "No space left on device")
        super()._scalars(step, values)


def test_a_failing_tracker_warns_once_and_training_is_unchanged(tmp_path):
    plain = train(steps=30)
    tracker = FailingTracker(tmp_path / "tb")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        tracked = train([tracker], steps=30)
    ours = [w for w in caught if issubclass(w.category, TrackerWarning)]
    assert len(ours) == 1 and "No space left on device" in str(ours[0].message)
    assert tracker.writes == 3  # it stopped trying after the failure
    columns = [k for k in plain.rows[0] if k != "images_per_s"]
    for a, b in zip(plain.rows, tracked.rows, strict=True):
        assert [a[k] for k in columns] == [b[k] for k in columns]
    steps = [e.step for e in read_events(tmp_path / "tb").Scalars("elbo/loss")]
    assert steps == [5, 10]


def test_a_bare_tracker_subclass_is_a_callback(tmp_path):
    class Recorder(Tracker):
        def __init__(self):
            super().__init__()
            self.rows, self.ended = [], 0

        def _scalars(self, step, values):
            self.rows.append((step, values["elbo/loss"]))

        def _flush(self):
            self.ended += 1

    recorder = Recorder()
    history = train([recorder])
    assert recorder.rows == [(r["step"], r["loss"]) for r in history.rows]
    assert recorder.ended == 1  # flushed when the run ended


def test_missing_packages_name_the_extra(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "mlflow", None)
    with pytest.raises(TrackerUnavailable, match=r'pip install "pyrodis\[mlflow\]"'):
        MLflowTracker(f"sqlite:///{tmp_path}/m.db")
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)
    with pytest.raises(TrackerUnavailable, match=r'pip install "pyrodis\[tensorboard\]"'):
        TensorBoardTracker(tmp_path / "tb")


@pytest.fixture
def mlflow_uri(tmp_path, monkeypatch):
    pytest.importorskip("mlflow", reason='the MLflow tests need pip install "pyrodis[mlflow]"')
    monkeypatch.chdir(tmp_path)  # a SQLite store keeps artefacts in ./mlruns (MLflow's default)
    return f"sqlite:///{tmp_path}/mlflow.db"


def test_mlflow_holds_metrics_by_step_params_and_artifacts(tmp_path, mlflow_uri):
    import mlflow

    tracker = MLflowTracker(mlflow_uri, experiment="unit", run_name="first")
    history = train([tracker])
    tracker.log_params({"objective": {"name": "beta-tcvae", "beta": 4.0}, "seed": 0})
    (tmp_path / "note.txt").write_text("hello")
    tracker.log_artifact(tmp_path / "note.txt")
    tracker.log_images(20, {"reconstructions": image_grid(torch.rand(1, 2, 3, 4, 4))})
    tracker.close()
    client = mlflow.MlflowClient(mlflow_uri)
    run = client.get_run(tracker.run_id)
    assert run.info.status == "FINISHED" and run.info.run_name == "first"
    assert client.get_experiment(run.info.experiment_id).name == "unit"
    assert run.data.params == {"objective.name": "beta-tcvae", "objective.beta": "4.0", "seed": "0"}
    for key, column in (("elbo/tc_mss", "tc_mss"), ("train/lr", "lr")):
        got = sorted((m.step, m.value) for m in client.get_metric_history(tracker.run_id, key))
        assert [s for s, _ in got] == [5, 10, 15, 20]
        np.testing.assert_allclose([v for _, v in got], history.column(column))
    names = {a.path for a in client.list_artifacts(tracker.run_id)}
    assert "note.txt" in names and "images" in names


def test_mlflow_continues_a_run_by_id(mlflow_uri):
    import mlflow

    first = MLflowTracker(mlflow_uri)
    first.log_scalars(5, {"elbo/kl": 1.0})
    first.close()
    again = MLflowTracker(mlflow_uri, run_id=first.run_id)
    again.log_scalars(10, {"elbo/kl": 2.0})
    again.close()
    history = mlflow.MlflowClient(mlflow_uri).get_metric_history(first.run_id, "elbo/kl")
    assert sorted((m.step, m.value) for m in history) == [(5, 1.0), (10, 2.0)]
