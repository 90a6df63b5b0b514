"""What every user program in this folder does after writing its model and guide: train briefly
with plain ``pyro.infer.SVI`` and two pyrodis ELBOs, then inspect the trained guide with
``AggregatePosterior.from_guide(..., model=...)`` and ArviZ.

The KL per dimension is checked against an independent Monte-Carlo estimate written here from the
Pyro traces alone (the guide run on ALL points in one call, its sites' own ``log_prob`` and the
model's prior), not through pyrodis' density code; the decomposition must add up to its KL.

Each ``test_user_*.py`` program reads top to bottom as a Pyro user would write it (data, networks,
model, guide). What they all write alike (the data, the encoder/decoder pair, the plain model and
Gaussian guide of one latent site) comes from ``kit.user_programs``; what a program is about (its
prior, posterior, plates, names or training loop) it passes in or writes out by hand.
"""

from __future__ import annotations

import math

import numpy as np
import pyro
import pyro.poutine as poutine
import torch
from pyro.infer import SVI
from pyro.optim import Adam
from torch.distributions import Independent

from pyrodis.diagnostics import AggregatePosterior
from pyrodis.inference import TCELBO, BetaELBO

ELBOS = {"beta": lambda: BetaELBO(beta=4.0), "tc": lambda: TCELBO(beta=6.0)}


def train(
    model, guide, data, elbo, steps: int = 25, batch: int = 32, lr=1e-2, check_gradients=False
):
    """``steps`` SVI steps on random batches ``(x, idx)`` under ``elbo``, a name in ``ELBOS`` or a
    loss object; every step's loss must be finite, and with ``check_gradients`` every gradient in
    the param store too. Returns the losses."""
    pyro.clear_param_store()
    pyro.set_rng_seed(0)
    loss = ELBOS[elbo]() if isinstance(elbo, str) else elbo
    svi = SVI(model, guide, Adam({"lr": lr}), loss=loss)
    g = torch.Generator().manual_seed(1)
    losses = []
    for step in range(steps):
        idx = torch.randperm(data.shape[0], generator=g)[:batch]
        value = svi.step(data[idx], idx)
        assert math.isfinite(value), f"step {step}: loss {value}"
        if check_gradients:
            grads = [p.grad for p in pyro.get_param_store().values() if p.grad is not None]
            assert all(bool(torch.isfinite(gr).all()) for gr in grads), f"step {step}: NaN gradient"
        losses.append(value)
    return losses


def train_and_inspect(model, guide, data, elbo, sites=("z",), *, steps=25, **kwargs):
    """What most programs do: ``train`` under ``elbo``, then ``inspect`` the guide at ``sites``
    (``kwargs`` go to ``inspect``); returns its ``AggregatePosterior``."""
    train(model, guide, data, elbo, steps=steps)
    return inspect(guide, model, data, sites, **kwargs)


def _base(fn):
    while isinstance(fn, Independent):
        fn = fn.base_dist
    return fn


def independent_kl(guide, model, data, sites, num_samples: int = 400):
    """KL(q(z_d|x_n) || p(z_d)) per dimension, averaged over all N points: z drawn from the
    guide's own distribution at each site (the AutoNormal auxiliary Normal for a Delta)."""
    idx = torch.arange(data.shape[0])
    with torch.no_grad():
        guide_trace = poutine.trace(guide).get_trace(data, idx)
        model_trace = poutine.trace(poutine.replay(model, trace=guide_trace)).get_trace(data, idx)
        out = []
        for name in sites:
            node = guide_trace.nodes[name]
            if type(node["fn"]).__name__ == "Delta":
                node = guide_trace.nodes[f"{name}_unconstrained"]
            q, p = _base(node["fn"]), _base(model_trace.nodes[name]["fn"])
            z = q.sample((num_samples,))
            diff = q.log_prob(z) - p.log_prob(z)
            out.append(diff.reshape(num_samples, -1, diff.shape[-1]).mean((0, 1)).double())
    return torch.cat(out).numpy()


def inspect(guide, model, data, sites, *, factors=None, **kwargs) -> AggregatePosterior:
    """from_guide with the model's prior, the KL check, the decomposition and ArviZ."""
    agg = AggregatePosterior.from_guide(
        guide,
        data,
        batch_size=64,
        guide_args=lambda x, idx: (x, idx),
        model=model,
        factors=factors,
        kl_samples=200,
        **kwargs,
    )
    assert agg.prior_source == "model" and agg.site_names == tuple(sites)
    assert agg.num_points == data.shape[0]
    kl, se = agg.kl_per_dim(), agg.kl_standard_errors()
    expected = independent_kl(guide, model, data, sites)
    assert np.all(np.abs(kl - expected) < 5 * se + 0.02 + 0.03 * np.abs(expected)), (kl, expected)
    terms = agg.decomposition(reference_size=64)
    assert abs(terms["mi"] + terms["tc"] + terms["dwkl"] - terms["kl"]) < 1e-9
    assert abs(terms["kl"] - kl.sum()) < 5 * terms["kl_se"] + 0.05 * abs(kl.sum()) + 0.05
    idata = agg.to_inference_data(num_samples=50)
    assert set(idata.posterior.data_vars) == set(sites)
    assert idata.encoder.attrs["prior"] == "model"
    return agg
