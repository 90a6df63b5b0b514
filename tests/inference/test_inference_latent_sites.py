"""The latent-site contract: what find_latent_sites finds and the errors naming site and fix."""

import warnings

import pyro
import pyro.distributions as dist
import pytest
import torch
from pyro import poutine

from pyrodis.inference import TCELBO, BetaELBO, LatentSiteError, find_latent_sites

D = 3


def _traces(model, guide, *args):
    guide_trace = poutine.trace(guide).get_trace(*args)
    model_trace = poutine.trace(poutine.replay(model, trace=guide_trace)).get_trace(*args)
    return guide_trace, model_trace


def _model(x, size=100, name="code"):
    with pyro.plate("rows", size=size, subsample=torch.arange(x.shape[0])):
        z = pyro.sample(name, dist.Normal(torch.zeros(x.shape[0], D), 1.0).to_event(1))
        pyro.sample("obs", dist.Normal(z.sum(-1), 1.0), obs=x)


def _guide(x, size=100, name="code"):
    loc = pyro.param("loc", torch.zeros(D))
    with pyro.plate("rows", size=size, subsample=torch.arange(x.shape[0])):
        pyro.sample(name, dist.Normal(loc + x[:, None], 0.5).to_event(1))


def test_finds_site_plate_sizes_and_scale():
    x = torch.randn(8)
    sites = find_latent_sites(*_traces(_model, _guide, x))
    assert len(sites) == 1
    s = sites[0]
    assert (s.name, s.plate, s.dataset_size, s.batch_size, s.latent_dim) == (
        "code",
        "rows",
        100,
        8,
        D,
    )
    assert s.value.shape == (8, D) and s.dist.event_shape == (D,)
    assert float(s.scale) == pytest.approx(100 / 8)
    assert s.prior is not None


def test_explicit_names_and_unknown_name():
    x = torch.randn(8)
    guide_trace, model_trace = _traces(_model, _guide, x)
    assert find_latent_sites(guide_trace, model_trace, ["code"])[0].name == "code"
    with pytest.raises(LatentSiteError, match="'z' is not a sample site.*code"):
        find_latent_sites(guide_trace, model_trace, ["z"])


def test_no_data_plate():
    def guide(x):
        pyro.sample("code", dist.Normal(torch.zeros(D), 1.0).to_event(1))

    guide_trace = poutine.trace(guide).get_trace(torch.randn(4))
    with pytest.raises(LatentSiteError, match=r"pyro.plate\('data', size=N"):
        find_latent_sites(guide_trace)
    with pytest.raises(LatentSiteError, match="'code' is not inside a data plate"):
        find_latent_sites(guide_trace, latent_sites=["code"])


def test_batch_smaller_than_two():
    with pytest.raises(LatentSiteError, match="'code': batch size 1 < 2"):
        find_latent_sites(*_traces(_model, _guide, torch.randn(1)))


def test_non_factorised_guide():
    def guide(x):
        with pyro.plate("rows", size=100, subsample=torch.arange(x.shape[0])):
            loc = torch.zeros(x.shape[0], D)
            pyro.sample("code", dist.MultivariateNormal(loc, torch.eye(D)))

    with pytest.raises(LatentSiteError, match=r"'code'.*not factorised.*to_event\(1\)"):
        find_latent_sites(*_traces(_model, guide, torch.randn(4)))


def test_model_without_prior_at_the_guide_site():
    x = torch.randn(4)
    guide_trace, model_trace = _traces(
        lambda x: _model(x, name="other"), lambda x: _guide(x, name="code"), x
    )
    with pytest.raises(LatentSiteError, match="'code' of the guide has no prior in the model"):
        find_latent_sites(guide_trace, model_trace)


def test_plate_size_equal_to_batch_warns_with_the_fix():
    x = torch.randn(8)
    with pytest.warns(UserWarning, match=r"size=N, subsample=indices"):
        find_latent_sites(*_traces(lambda x: _model(x, 8), lambda x: _guide(x, 8), x))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        find_latent_sites(*_traces(_model, _guide, x))


def test_non_reparameterised_guide_site_is_rejected_by_the_elbos():
    def model(x):
        pyro.sample("k", dist.Bernoulli(0.5))
        _model(x)

    def guide(x):
        pyro.sample("k", dist.Bernoulli(0.3))
        _guide(x)

    with pytest.raises(LatentSiteError, match="'k' is not reparameterised"):
        BetaELBO(1.0).loss(model, guide, torch.randn(4))


def test_global_sites_are_kept_as_pyro_computes_them():
    """A non-latent (global) site stays in the loss exactly as Trace_ELBO counts it."""

    def model(x):
        w = pyro.sample("w", dist.Normal(0.0, 1.0))
        with pyro.plate("rows", size=100, subsample=torch.arange(x.shape[0])):
            z = pyro.sample("code", dist.Normal(torch.zeros(x.shape[0], D), 1.0).to_event(1))
            pyro.sample("obs", dist.Normal(w * z.sum(-1), 1.0), obs=x)

    def guide(x):
        pyro.sample("w", dist.Normal(pyro.param("wl", torch.tensor(0.3)), 0.1))
        _guide(x)

    x = torch.randn(6)
    pyro.set_rng_seed(1)
    expected = pyro.infer.Trace_ELBO().loss(model, guide, x)
    elbo = TCELBO(alpha=1, beta=1, gamma=1)
    pyro.set_rng_seed(1)
    assert elbo.loss(model, guide, x) == pytest.approx(expected, rel=1e-5)
    assert "other" in elbo.last_terms
    assert find_latent_sites(*_traces(model, guide, x))[0].name == "code"


def test_two_latent_sites_are_joined():
    def model(x):
        with pyro.plate("data", size=50, subsample=torch.arange(x.shape[0])):
            a = pyro.sample("a", dist.Normal(torch.zeros(x.shape[0], 2), 1.0).to_event(1))
            b = pyro.sample("b", dist.Normal(torch.zeros(x.shape[0], 3), 1.0).to_event(1))
            pyro.sample("obs", dist.Normal(a.sum(-1) + b.sum(-1), 1.0), obs=x)

    def guide(x):
        with pyro.plate("data", size=50, subsample=torch.arange(x.shape[0])):
            pyro.sample("a", dist.Normal(x[:, None].expand(-1, 2), 0.5).to_event(1))
            pyro.sample("b", dist.Normal(x[:, None].expand(-1, 3), 0.5).to_event(1))

    x = torch.randn(6)
    sites = find_latent_sites(*_traces(model, guide, x))
    assert [s.name for s in sites] == ["a", "b"]
    pyro.set_rng_seed(2)
    expected = pyro.infer.Trace_ELBO().loss(model, guide, x)
    pyro.set_rng_seed(2)
    assert TCELBO(1, 1, 1).loss(model, guide, x) == pytest.approx(expected, rel=1e-5)


def _auto_model(prior):
    W = torch.randn(3, 5, generator=torch.Generator().manual_seed(0))

    def model(x, idx):
        with pyro.plate("data", 64, subsample=idx):
            z = pyro.sample("z", prior(len(x)).to_event(1))
            pyro.sample("x", dist.Normal(z @ W, 1.0).to_event(1), obs=x)

    return model


@pytest.mark.parametrize(
    "prior",
    [
        lambda n: dist.Normal(torch.zeros(n, 3), 1.0),
        lambda n: dist.Gamma(torch.full((n, 3), 2.0), 1.0),
    ],
    ids=["real", "positive"],
)
def test_autonormal_is_a_latent_site_and_tc_elbo_reduces_to_trace_elbo(prior):
    from pyro.infer.autoguide import AutoNormal

    model = _auto_model(prior)
    guide = AutoNormal(model, create_plates=lambda x, idx: pyro.plate("data", 64, subsample=idx))
    x, idx = torch.randn(16, 5), torch.arange(16)
    guide(x, idx)  # set the autoguide up (it runs the model once)
    (site,) = find_latent_sites(*_traces(model, guide, x, idx))
    assert (site.name, site.aux_name, tuple(site.per_dim.batch_shape)) == (
        "z",
        "z_unconstrained",
        (16, 3),
    )
    pyro.set_rng_seed(3)
    expected = pyro.infer.Trace_ELBO().loss(model, guide, x, idx)
    pyro.set_rng_seed(3)
    assert TCELBO(1, 1, 1).loss(model, guide, x, idx) == pytest.approx(expected, rel=1e-6)


def test_other_autoguides_get_an_error_naming_autonormal():
    from pyro.infer.autoguide import AutoDiagonalNormal

    model = _auto_model(lambda n: dist.Normal(torch.zeros(n, 3), 1.0))
    guide = AutoDiagonalNormal(model)
    with pytest.raises(LatentSiteError, match="point mass.*use pyro.infer.autoguide.AutoNormal"):
        TCELBO().loss(model, guide, torch.randn(8, 5), torch.arange(8))


def test_data_plate_at_dim_minus_two_with_a_feature_plate_inside():
    def model(x):
        features = pyro.plate("features", x.shape[1], dim=-1)
        with features:
            w = pyro.sample("w", dist.Normal(0.0, 1.0))  # a per-feature latent: not a latent site
        with pyro.plate("rows", 50, subsample=torch.arange(len(x)), dim=-2):
            z = pyro.sample("z", dist.Normal(torch.zeros(len(x), 1, 2), 1.0).to_event(1))
            with features:
                pyro.sample("x", dist.Normal(z.sum(-1) * w, 1.0), obs=x)

    def guide(x):
        scale = pyro.param(
            "feature_scale", torch.ones(x.shape[1]), constraint=dist.constraints.positive
        )
        with pyro.plate("features", x.shape[1], dim=-1):
            pyro.sample("w", dist.Normal(0.0, scale))
        with pyro.plate("rows", 50, subsample=torch.arange(len(x)), dim=-2):
            loc = x.mean(-1, keepdim=True).unsqueeze(-1).expand(-1, 1, 2)
            pyro.sample("z", dist.Normal(loc, 0.5).to_event(1))

    x = torch.randn(6, 4)
    (site,) = find_latent_sites(*_traces(model, guide, x))
    assert (site.name, site.plate, site.batch_size, site.latent_dim) == ("z", "rows", 6, 2)
    assert tuple(site.per_dim.batch_shape) == (6, 2) and site.value.shape == (6, 2)
    pyro.set_rng_seed(0)
    expected = pyro.infer.Trace_ELBO().loss(model, guide, x)
    pyro.set_rng_seed(0)
    assert TCELBO(1, 1, 1).loss(model, guide, x) == pytest.approx(expected, rel=1e-5)
    (named,) = find_latent_sites(*_traces(model, guide, x), data_plate="rows")
    assert named.name == "z"


def test_a_guide_site_without_prior_lists_the_models_latent_sites():
    x = torch.randn(4)
    guide_trace, model_trace = _traces(
        lambda x: _model(x, name="other"), lambda x: _guide(x, name="code"), x
    )
    with pytest.raises(LatentSiteError, match=r"the model's latent sites are \['other'\]"):
        find_latent_sites(guide_trace, model_trace)
