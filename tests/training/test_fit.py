import math

import pyro
import pyro.distributions as dist
import pytest
import torch
from kit.user_model import make_user_model

from pyrodis.data import BatchRule, as_source
from pyrodis.runs.checkpoint import load_latest_checkpoint, save_checkpoint
from pyrodis.training import Trainer, TrainingInterrupted, fit
from pyrodis.training.schedules import make_schedule


def make_trainer(data, record, **kw):
    model, guide = make_user_model(len(data))
    options = dict(batch_size=10, lr=1e-2, seed=1, log_every=5, progress=False, clip_norm=5.0)
    options.update(kw)
    return Trainer(
        model,
        guide,
        pyro.infer.Trace_ELBO(),
        data,
        callbacks=[(1, lambda trainer, terms: record.append(terms["loss"]))],
        **options,
    )


def test_resume_from_checkpoint_gives_identical_losses(tmp_path):
    data = torch.randn(100, 6, generator=torch.Generator().manual_seed(0))
    straight = []
    trainer = make_trainer(data, straight, schedule=make_schedule("cosine", total_steps=40))
    trainer.run(17)
    save_checkpoint(tmp_path, trainer.step, trainer.state_dict())
    trainer.run(40)

    pyro.clear_param_store()
    torch.manual_seed(999)  # a different process state must not matter
    resumed = []
    again = make_trainer(data, resumed, schedule=make_schedule("cosine", total_steps=40))
    state, step = load_latest_checkpoint(tmp_path)
    again.load_state_dict(state)
    assert again.step == step == 17
    again.run(40)
    assert resumed == straight[17:]
    assert [r["step"] for r in again.history.rows] == [5, 10, 15, 20, 25, 30, 35, 40]

    def strip(rows):
        return [{k: v for k, v in r.items() if k != "images_per_s"} for r in rows]

    assert strip(again.history.rows) == strip(trainer.history.rows)


def test_history_means_over_interval_and_loss_decreases():
    data = torch.randn(200, 6, generator=torch.Generator().manual_seed(1)) * 3 + 2
    losses = []
    trainer = make_trainer(data, losses, log_every=20, batch_size=20)
    history = trainer.run(200)
    assert len(history) == 10
    assert history.rows[0]["loss"] == pytest.approx(sum(losses[:20]) / 20)
    assert history.column("loss")[-1] < 0.7 * history.column("loss")[0]


def test_interrupt_runs_hook_and_reports_step():
    data = torch.randn(50, 6)
    saved = []

    def boom(trainer, terms):
        if trainer.step == 3:
            raise KeyboardInterrupt

    model, guide = make_user_model(50)
    trainer = Trainer(
        model,
        guide,
        pyro.infer.Trace_ELBO(),
        data,
        batch_size=5,
        progress=False,
        callbacks=[(1, boom)],
    )
    with pytest.raises(TrainingInterrupted) as info:
        trainer.run(10, on_interrupt=lambda t: saved.append(t.step))
    assert info.value.step == 3 and saved == [3]


def test_fit_epochs_and_argument_errors():
    data = torch.randn(40, 6)
    model, guide = make_user_model(40)
    history = fit(
        model,
        guide,
        pyro.infer.Trace_ELBO(),
        data,
        epochs=2,
        batch_size=8,
        log_every=5,
        progress=False,
    )
    assert [r["step"] for r in history.rows] == [5, 10]
    with pytest.raises(ValueError, match="exactly one"):
        fit(model, guide, pyro.infer.Trace_ELBO(), data, steps=3, epochs=1)
    with pytest.raises(ValueError, match="exceeds the 40 data points"):
        fit(model, guide, pyro.infer.Trace_ELBO(), data, steps=1, batch_size=41)


def test_nan_loss_is_a_clear_error():
    data = torch.full((20, 6), math.inf)

    def model(x):
        with pyro.plate("data", size=20, subsample=torch.arange(len(x))):
            pyro.sample("obs", dist.Normal(pyro.param("m", torch.zeros(6)), 1.0).to_event(1), obs=x)

    def guide(x):
        pass

    with pytest.raises(FloatingPointError, match="lower the learning rate"):
        fit(model, guide, pyro.infer.Trace_ELBO(), data, steps=2, batch_size=5, progress=False)


def test_step_batches_cover_each_epoch_once_and_are_seeded():
    data = torch.arange(23.0)[:, None]
    batches = BatchRule(as_source(data), batch_size=5, seed=3)
    assert batches.steps_per_epoch == 4
    seen = torch.cat([batches.batch(s)[1] for s in range(4)])
    assert len(set(seen.tolist())) == 20  # drop_last: 3 points wait for a later epoch
    assert torch.equal(BatchRule(as_source(data), 5, 3).batch(6)[0], batches.batch(6)[0])
    assert not torch.equal(batches.batch(0)[1], batches.batch(4)[1])


def test_schedules():
    cos = make_schedule("cosine", total_steps=100, warmup_steps=10, floor=0.1)
    assert cos(0) == pytest.approx(0.1) and cos(9) == pytest.approx(1.0)
    assert cos(100) == pytest.approx(0.1) and cos(55) == pytest.approx(0.55)
    assert make_schedule("warmup", total_steps=0, warmup_steps=4)(10) == 1.0
    with pytest.raises(ValueError, match="unknown learning-rate schedule"):
        make_schedule("linear", total_steps=5)
