"""What a user sees of the total correlation while training: the estimator's name on every
minibatch estimate and the large-reference estimate beside it at checkpoints (log.csv, the
checkpoint's history, the progress bar), without touching training."""

import math

import numpy as np
import pytest
import torch

from pyrodis.runs import load_run, resolve_config, train_run
from pyrodis.runs.reference_estimate import CheckpointEstimate
from pyrodis.runs.run_log import read_log
from pyrodis.training.history import History

TINY = [
    "model.architecture='mlp'",
    "model.latent_dim=3",
    "train.batch_size=16",
    "train.log_every=2",
    "train.checkpoint_every=4",
    "train.estimate_points=300",
]


def _train(path, steps=8, extra=()):
    config = resolve_config(preset="beta-tcvae", overrides=[*TINY, *extra], seed=3)
    return train_run(path, config, steps=steps, progress=False)


def _read(path):
    return read_log(path / "log.csv")


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    path = tmp_path_factory.mktemp("estimate") / "run"
    _train(path)
    return path


def test_log_names_the_estimator_and_holds_the_reference_estimate_at_checkpoints(trained):
    rows = _read(trained)
    assert {"mi_mss", "tc_mss", "dwkl_mss"} <= set(rows[0])
    assert not {"mi", "tc", "dwkl"} & set(rows[0])  # never shown as if it were the quantity
    with_ref = [r["step"] for r in rows if not math.isnan(r.get("tc_ref", math.nan))]
    assert with_ref == [4, 8]


def test_the_logged_estimate_is_the_decomposition_of_the_checkpoint(trained):
    run = load_run(trained)  # the step-8 checkpoint
    again = CheckpointEstimate(run.vae, run.dataset, points=300, seed=3).estimate()
    last = _read(trained)[-1]
    for term in ("mi_ref", "tc_ref", "dwkl_ref"):
        assert last[term] == pytest.approx(again[term], rel=1e-5, abs=1e-6)
    assert run.history[-1]["tc_ref"] == pytest.approx(last["tc_ref"])  # in the checkpoint too


def test_the_estimate_leaves_training_untouched(trained, tmp_path):
    _train(tmp_path / "off", extra=["train.estimate_points=0"])
    on, off = _read(trained), _read(tmp_path / "off")
    assert [r["loss"] for r in on] == [r["loss"] for r in off]
    assert "tc_ref" not in off[0]
    a, b = load_run(trained).vae.state_dict(), load_run(tmp_path / "off").vae.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_a_resumed_run_logs_what_an_uninterrupted_one_does(trained, tmp_path):
    path = tmp_path / "resumed"
    _train(path, steps=4)
    train_run(path, steps=8, progress=False, resume=True)
    straight, resumed = _read(trained), _read(path)
    keys = ("step", "loss", "tc_mss", "tc_ref")
    table = [[[r.get(k, math.nan) for k in keys] for r in rows] for rows in (resumed, straight)]
    np.testing.assert_allclose(*np.array(table), rtol=1e-6, equal_nan=True)


def test_the_bank_estimate_is_named_bank(tmp_path):
    _train(tmp_path / "bank", steps=2, extra=["objective.estimator='bank'"])
    assert "tc_bank" in _read(tmp_path / "bank")[0]


def test_an_annotation_between_log_steps_goes_to_the_next_row():
    history = History(log_every=2)
    history.add(1, {"loss": 1.0}, images=4)
    history.annotate(1, {"tc_ref": 0.5})  # step 1 closed no row
    history.add(2, {"loss": 3.0}, images=4)
    history.annotate(2, {"mi_ref": 2.0})  # step 2 did
    assert history.rows[-1]["loss"] == 2.0
    assert history.rows[-1]["tc_ref"] == 0.5 and history.rows[-1]["mi_ref"] == 2.0


def test_a_pending_annotation_survives_a_checkpoint():
    history = History(log_every=2)
    history.add(1, {"loss": 1.0}, images=4)
    history.annotate(1, {"tc_ref": 0.5})
    restored = History(log_every=2)
    restored.restore(history.rows, history.interval_state())
    restored.add(2, {"loss": 3.0}, images=4)
    assert restored.rows[-1]["tc_ref"] == 0.5


def test_too_few_points_are_refused():
    with pytest.raises(ValueError, match="at least 2"):
        CheckpointEstimate(None, [0] * 10, points=1)


def test_a_run_builds_its_evaluation_dataset_once(tmp_path, monkeypatch):
    """The checkpoint estimate, the trackers' pictures and the returned Run share one evaluation
    dataset: for a folder of images each build is a pass over the files."""
    import pyrodis.runs.train as train_module
    from pyrodis.training.trackers import TensorBoardTracker

    built = []
    real = train_module.build_dataset

    def counting(config, training=True, progress=True):
        built.append(training)
        return real(config, training=training, progress=progress)

    monkeypatch.setattr(train_module, "build_dataset", counting)
    config = resolve_config(preset="beta-tcvae", overrides=TINY, seed=3)
    run = train_run(tmp_path / "r", config, steps=4, progress=False,
                    trackers=[TensorBoardTracker(tmp_path / "tb")])  # fmt: skip
    assert sorted(built) == [False, True]  # one training view, one evaluation dataset
    assert not math.isnan(_read(tmp_path / "r")[-1]["tc_ref"])  # the estimate ran on it
    assert len(run.dataset) == 737_280
