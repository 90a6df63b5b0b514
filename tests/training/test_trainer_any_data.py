"""The trainer on what a PyTorch user has: their optimiser and rate, a DataLoader, a model whose
second argument has any name, and ELBO terms that stay per data point under poutine.scale."""

import math

import pyro
import pyro.distributions as dist
import pytest
import torch
from pyro import poutine
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from pyrodis.inference import TCELBO
from pyrodis.training import Trainer, fit
from pyrodis.training.schedules import make_schedule


def user_program(num_data, dim=5, latent=2):
    torch.manual_seed(0)
    enc, dec = nn.Linear(dim, 2 * latent), nn.Linear(latent, dim)

    def model(batch, rows):  # not called (x, indices)
        pyro.module("dec", dec)
        with pyro.plate("data", size=num_data, subsample=rows):
            z = pyro.sample("z", dist.Laplace(torch.zeros(len(batch), latent), 1.0).to_event(1))
            pyro.sample("x", dist.Normal(dec(z), 1.0).to_event(1), obs=batch)

    def guide(batch, rows):
        pyro.module("enc", enc)
        with pyro.plate("data", size=num_data, subsample=rows):
            loc, log_scale = enc(batch).chunk(2, -1)
            pyro.sample("z", dist.Normal(loc, log_scale.exp()).to_event(1))

    return model, guide, enc


def test_the_users_optimiser_and_rate_are_respected_and_scheduled():
    data = torch.randn(64, 5)
    model, guide, _ = user_program(64)
    trainer = Trainer(
        model,
        guide,
        pyro.infer.Trace_ELBO(),
        data,
        batch_size=16,
        optim=pyro.optim.Adam({"lr": 1e-2}),
        progress=False,
        log_every=1,
    )
    trainer.run(3)
    assert trainer.history.column("lr").tolist() == [1e-2, 1e-2, 1e-2]
    pyro.clear_param_store()
    model, guide, _ = user_program(64)
    warm = make_schedule("warmup", total_steps=10, warmup_steps=4)
    trainer = Trainer(
        model,
        guide,
        pyro.infer.Trace_ELBO(),
        data,
        batch_size=16,
        progress=False,
        optim=pyro.optim.Adam({"lr": 1e-2}),
        schedule=warm,
        log_every=1,
    )
    trainer.run(5)
    assert trainer.history.column("lr") == pytest.approx([2.5e-3, 5e-3, 7.5e-3, 1e-2, 1e-2])
    with pytest.raises(ValueError, match="not both"):
        Trainer(model, guide, pyro.infer.Trace_ELBO(), data, lr=1e-3, optim=pyro.optim.Adam({}))


def test_fit_on_a_dataloader_with_indices():
    x = torch.randn(40, 5)
    loader = DataLoader(TensorDataset(x, torch.arange(40)), batch_size=8, shuffle=True)
    model, guide, enc = user_program(40)
    before = enc.weight.detach().clone()
    history = fit(model, guide, TCELBO(beta=2.0), loader, epochs=2, progress=False, log_every=5)
    assert [r["step"] for r in history.rows] == [5, 10]
    assert not torch.equal(before, enc.weight)


def test_terms_stay_per_data_point_under_poutine_scale():
    x = torch.randn(32, 5)
    model, guide, _ = user_program(32)
    elbo = TCELBO(beta=3.0)
    pyro.set_rng_seed(1)
    plain = elbo.loss(model, guide, x, torch.arange(32))
    terms = dict(elbo.last_terms)
    s = 1e-3
    pyro.set_rng_seed(1)
    scaled = elbo.loss(
        poutine.scale(model, scale=s), poutine.scale(guide, scale=s), x, torch.arange(32)
    )
    assert scaled == pytest.approx(s * plain, rel=1e-5)
    for key in ("loss", "recon", "kl", "mi", "tc", "dwkl"):
        assert elbo.last_terms[key] == pytest.approx(terms[key], rel=1e-5, abs=1e-6)
    assert elbo.last_terms["mi"] + elbo.last_terms["tc"] + elbo.last_terms["dwkl"] == pytest.approx(
        elbo.last_terms["kl"], rel=1e-5
    )
    assert math.isfinite(scaled)
