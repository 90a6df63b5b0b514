"""A user's VAE where half the points are masked out with ``poutine.mask`` (missing data), in the
model and the guide alike. A masked point contributes no term and is no reference point of the
aggregate posterior: changing its data changes no loss (``docs/contract.rst``, "Masks")."""

import math

import pyro
import pyro.distributions as dist
import pyro.poutine as poutine
import pytest
import torch
from inspection import train
from kit.user_programs import encoder_decoder, low_rank_data
from pyro.infer import Trace_ELBO

from pyrodis.diagnostics import AggregatePosterior
from pyrodis.inference import DIPELBO, TCELBO, BetaELBO, FactorELBO

N, OBS, D, B = 256, 6, 3, 32


def program():
    data = low_rank_data(N, OBS, seed=0, squash=torch.tanh)
    enc, dec = encoder_decoder(OBS, D, hidden=16)

    def model(x, idx):
        pyro.module("dec", dec)
        with pyro.plate("data", N, subsample=idx), poutine.mask(mask=idx % 2 == 0):
            z = pyro.sample("z", dist.Normal(torch.zeros(len(idx), D), 1.0).to_event(1))
            pyro.sample("x", dist.Normal(dec(z), 0.1).to_event(1), obs=x)

    def guide(x, idx):
        pyro.module("enc", enc)
        loc, log_scale = enc(x).chunk(2, -1)
        with pyro.plate("data", N, subsample=idx), poutine.mask(mask=idx % 2 == 0):
            pyro.sample("z", dist.Normal(loc, log_scale.exp()).to_event(1))

    return model, guide, data


def _loss(elbo, x, idx, seed=3):
    torch.manual_seed(0)  # the same network weights every time
    model, guide, _ = program()
    pyro.clear_param_store()
    pyro.set_rng_seed(seed)
    return elbo.loss(model, guide, x, idx)


@pytest.mark.parametrize("estimator", ["mss", "mws"])
def test_unit_weights_give_trace_elbo_and_the_terms_add_up(estimator):
    _, _, data = program()
    idx = torch.arange(B) * 3
    expected = _loss(Trace_ELBO(), data[idx], idx)
    elbo = TCELBO(alpha=1.0, beta=1.0, gamma=1.0, estimator=estimator)
    assert _loss(elbo, data[idx], idx) == pytest.approx(expected, rel=1e-5)
    t = elbo.last_terms
    assert t["mi"] + t["tc"] + t["dwkl"] == pytest.approx(t["kl"], rel=1e-5, abs=1e-6)


ELBOS = {
    "tc-mss": lambda: TCELBO(beta=6.0),
    "tc-mws": lambda: TCELBO(beta=6.0, estimator="mws"),
    "dip-i": lambda: DIPELBO(kind="i"),
    "dip-ii": lambda: DIPELBO(kind="ii"),
    "beta": lambda: BetaELBO(beta=4.0),
    "factor": lambda: FactorELBO(seed=0),
}


@pytest.mark.parametrize("name", sorted(ELBOS))
def test_a_masked_point_s_data_does_not_change_the_loss(name):
    _, _, data = program()
    idx = torch.arange(B) * 3
    x = data[idx]
    other = x.clone()
    masked = idx % 2 == 1
    other[masked] = torch.randn(int(masked.sum()), OBS)
    first = _loss(ELBOS[name](), x, idx)
    second = _loss(ELBOS[name](), other, idx)
    assert math.isfinite(first) and first == pytest.approx(second, rel=1e-6)
    unmasked = x.clone()
    unmasked[~masked] = torch.randn(int((~masked).sum()), OBS)
    assert _loss(ELBOS[name](), unmasked, idx) != pytest.approx(first, rel=1e-6)


def test_dip_moments_count_only_the_unmasked_points():
    model, guide, data = program()
    idx = torch.arange(B) * 3
    elbo = DIPELBO(kind="i")
    pyro.set_rng_seed(0)
    elbo.loss(model, guide, data[idx], idx)
    keep = idx[idx % 2 == 0]
    with torch.no_grad():
        trace = poutine.trace(guide).get_trace(data[keep], keep)
    loc = trace.nodes["z"]["fn"].base_dist.loc
    cov = torch.cov(loc.T, correction=0)
    offdiag = float((cov**2).sum() - (torch.diagonal(cov) ** 2).sum())
    assert elbo.last_terms["dip_offdiag"] == pytest.approx(offdiag, rel=1e-4)


@pytest.mark.parametrize("elbo", ["beta", "tc"])
def test_the_masked_program_trains(elbo):
    model, guide, data = program()
    train(model, guide, data, elbo)


def test_the_diagnostics_refuse_a_masking_guide_with_the_fix():
    model, guide, data = program()
    with pytest.raises(ValueError, match="mask"):
        AggregatePosterior.from_guide(guide, data, guide_args=lambda x, i: (x, i), model=model)
