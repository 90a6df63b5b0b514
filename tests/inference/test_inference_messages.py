"""Messages and behaviours that must not send a Pyro user the wrong way: three positional
arguments, a prior that does not factorise, a per-dimension mixture prior, and an ELBO reused
after ``pyro.clear_param_store()`` (``docs/contract.rst``)."""

import warnings

import pyro
import pyro.distributions as dist
import pytest
import torch
from kit.user_programs import encoder_decoder, low_rank_data, user_guide, user_model
from pyro.infer import SVI
from pyro.optim import Adam
from torch import nn

from pyrodis.diagnostics import AggregatePosterior
from pyrodis.inference import TCELBO, CapacityELBO

N, OBS, D, K = 128, 4, 2, 3


def _data():
    return low_rank_data(N, OBS, seed=0, squash=torch.tanh)


def joint_mixture():
    """A mixture over the whole latent vector: not a product of per-dimension densities."""
    locs = torch.tensor([[-2.0, -2.0], [0.0, 0.0], [2.0, 2.0]])
    comp = dist.Normal(locs, 0.5).to_event(1)
    return dist.MixtureSameFamily(dist.Categorical(torch.ones(K)), comp)


def per_dim_mixture():
    """A mixture per latent dimension: factorised (batch (D,), event ())."""
    locs = torch.tensor([[-1.0, 0.0, 1.0], [-2.0, 0.5, 2.0]])
    return dist.MixtureSameFamily(dist.Categorical(torch.ones(D, K)), dist.Normal(locs, 0.4))


def program(prior):
    enc, dec = encoder_decoder(OBS, D)

    def batch_prior(x):
        if prior is joint_mixture:
            return prior().expand([len(x)])
        return prior().expand([len(x), D]).to_event(1)

    return user_model(dec, N, batch_prior), user_guide(enc, N), enc


def _steps(model, guide, elbo, steps=5):
    svi = SVI(model, guide, Adam({"lr": 1e-2}), loss=elbo)
    data = _data()
    for i in range(steps):
        idx = torch.arange(16) + 16 * (i % 8)
        svi.step(data[idx], idx)


def test_a_guide_with_three_positional_arguments_names_guide_args():
    enc = nn.Linear(OBS, 2 * D)

    def guide(x, idx, temperature):
        loc, log_scale = enc(x).chunk(2, -1)
        with pyro.plate("data", N, subsample=idx):
            pyro.sample("z", dist.Normal(loc, log_scale.exp() * temperature).to_event(1))

    with pytest.raises(TypeError, match="guide_args="):
        AggregatePosterior.from_guide(guide, _data())
    agg = AggregatePosterior.from_guide(guide, _data(), guide_args=lambda x, i: (x, i, 1.0))
    assert agg.num_points == N


def test_a_non_factorised_prior_warns_once_that_dwkl_is_not_a_kl():
    model, guide, _ = program(joint_mixture)
    elbo = TCELBO(beta=1.0, alpha=1.0, gamma=1.0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _steps(model, guide, elbo)
    messages = [str(w.message) for w in caught if "does not factorise" in str(w.message)]
    assert len(messages) == 1 and "dwkl" in messages[0] and "kl_to" in messages[0]
    t = elbo.last_terms
    assert t["mi"] + t["tc"] + t["dwkl"] == pytest.approx(t["kl"], rel=1e-4, abs=1e-5)


def test_the_kl_to_a_non_factorised_prior_by_monte_carlo():
    model, guide, enc = program(joint_mixture)
    data = _data()
    with pytest.raises(ValueError, match="kl_to"):
        AggregatePosterior.from_guide(guide, data, model=model)
    agg = AggregatePosterior.from_guide(guide, data, prior=dist.Normal(0.0, 1.0))
    got = agg.kl_to(joint_mixture(), num_samples=200)
    with torch.no_grad():  # independent: the guide's own Normal and the prior's log_prob
        loc, log_scale = enc(data).chunk(2, -1)
        q = dist.Normal(loc, log_scale.exp()).to_event(1)
        z = q.sample((2000,))
        expected = float((q.log_prob(z) - joint_mixture().log_prob(z)).mean())
    assert got["kl"] == pytest.approx(expected, abs=5 * got["kl_se"] + 0.02)
    with pytest.raises(ValueError, match="event shape"):
        agg.kl_to(dist.Normal(0.0, 1.0))


def test_a_per_dimension_mixture_prior_is_factorised():
    model, guide, _ = program(per_dim_mixture)
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*does not factorise")
        _steps(model, guide, TCELBO())
    agg = AggregatePosterior.from_guide(guide, _data(), model=model)
    assert agg.prior_source == "model"
    assert isinstance(agg.prior.parts[0], torch.distributions.MixtureSameFamily)
    assert agg.kl_method == "monte carlo"
    terms = agg.decomposition(reference_size=N)
    assert abs(terms["mi"] + terms["tc"] + terms["dwkl"] - terms["kl"]) < 1e-9


def test_a_cleared_param_store_restarts_a_reused_capacity_elbo():
    model, guide, _ = program(per_dim_mixture)
    elbo = CapacityELBO(capacity_max=10.0, anneal_steps=10)
    _steps(model, guide, elbo, steps=5)
    assert elbo.num_steps == 5 and elbo.capacity == pytest.approx(5.0)
    pyro.clear_param_store()
    with pytest.warns(UserWarning, match="restarts at 0"):
        _steps(model, guide, elbo, steps=1)
    assert elbo.num_steps == 1 and elbo.last_terms["capacity"] == 0.0
    _steps(model, guide, elbo, steps=2)  # no restart while the store holds the parameters
    assert elbo.num_steps == 3


def _masked_pair(model_mask, guide_mask):
    def model(x, idx):
        with pyro.plate("data", N, subsample=idx), pyro.poutine.mask(mask=model_mask):
            z = pyro.sample("z", dist.Normal(torch.zeros(len(idx), D), 1.0).to_event(1))
            pyro.sample("x", dist.Normal(z.sum(-1, keepdim=True), 1.0).to_event(1), obs=x)

    def guide(x, idx):
        with pyro.plate("data", N, subsample=idx), pyro.poutine.mask(mask=guide_mask):
            pyro.sample("z", dist.Normal(torch.zeros(len(idx), D), 1.0).to_event(1))

    return model, guide


@pytest.mark.parametrize(
    "model_mask, guide_mask, match",
    [
        (torch.ones(8, dtype=torch.bool), torch.arange(8) < 4, "masked differently"),
        (torch.arange(8) == 0, torch.arange(8) == 0, "only one point"),
    ],
)
def test_masks_that_cannot_be_honoured_are_refused_with_the_reason(model_mask, guide_mask, match):
    from pyrodis.inference import LatentSiteError

    model, guide = _masked_pair(model_mask, guide_mask)
    with pytest.raises(LatentSiteError, match=match):
        TCELBO().loss(model, guide, torch.randn(8, 1), torch.arange(8))
