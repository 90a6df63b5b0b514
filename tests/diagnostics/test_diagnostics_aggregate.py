"""AggregatePosterior built from a guide: points, parameters, KL per latent, active units."""

import numpy as np
import pyro
import pyro.distributions as dist
import pytest
import torch
from kit.tiny_bars import SCALES, TinyBars, tiny_encoder, tiny_guide

from pyrodis.diagnostics import AggregatePosterior
from pyrodis.diagnostics.encoding import batch_slices


def _all_encoded():
    ds = TinyBars()
    factors = ds.factors(np.arange(len(ds)))
    return ds, factors, tiny_encoder(ds.observations(factors))


def test_from_guide_reads_every_point_of_a_ground_truth_dataset():
    ds, factors, (loc, scale) = _all_encoded()
    agg = AggregatePosterior.from_guide(tiny_guide, ds, batch_size=7)  # 30 = 4·7 + 2
    assert (agg.num_points, agg.latent_dim, agg.site_name) == (30, 5, "z")
    np.testing.assert_array_equal(agg.indices, np.arange(30))
    np.testing.assert_array_equal(agg.factors, factors)
    assert agg.factor_names == ("row", "col") and agg.dataset_size == 30
    torch.testing.assert_close(agg.loc, loc.double())
    torch.testing.assert_close(agg.scale, scale.double())
    np.testing.assert_array_equal(agg.mean_codes, loc.double().numpy())


def test_kl_per_dim_matches_the_analytic_gaussian_kl():
    _, _, (loc, scale) = _all_encoded()
    agg = AggregatePosterior.from_guide(tiny_guide, TinyBars())
    expected = torch.distributions.kl_divergence(
        torch.distributions.Normal(loc.double(), scale.double()),
        torch.distributions.Normal(0.0, 1.0),
    ).mean(0)
    np.testing.assert_allclose(agg.kl_per_dim(), expected.numpy(), rtol=1e-12, atol=1e-15)
    # Dead latents: z2, z3 are the prior exactly; z4 has KL = -log 0.5 + 0.125 - 0.5.
    assert agg.kl_per_dim()[2] == agg.kl_per_dim()[3] == 0.0
    assert agg.kl_per_dim()[4] == pytest.approx(np.log(2) + 0.125 - 0.5)
    assert list(agg.kl_order()[:2]) == [0, 1]


def test_active_units_find_the_planted_dead_latents():
    agg = AggregatePosterior.from_guide(tiny_guide, TinyBars())
    np.testing.assert_array_equal(agg.active_units(), [True, True, False, False, False])
    assert agg.mean_variances()[0] == pytest.approx(np.var(agg.mean_codes[:, 0], ddof=1))
    # A threshold above the active latents' variance switches them off too.
    assert not agg.active_units(threshold=10.0).any()


def test_a_sample_of_points_is_distinct_sorted_and_seeded():
    ds = TinyBars()
    a = AggregatePosterior.from_guide(tiny_guide, ds, num_points=12, seed=4)
    b = AggregatePosterior.from_guide(tiny_guide, ds, num_points=12, seed=4)
    assert a.num_points == 12 and len(set(a.indices)) == 12
    np.testing.assert_array_equal(a.indices, np.sort(a.indices))
    np.testing.assert_array_equal(a.indices, b.indices)
    np.testing.assert_array_equal(a.factors, ds.factors(a.indices))
    _, _, (loc, _) = _all_encoded()
    torch.testing.assert_close(a.loc, loc[a.indices].double())


def test_tensor_and_torch_dataset_sources_give_the_same_posteriors():
    ds = TinyBars()
    images = ds.observations(ds.factors(np.arange(len(ds))))
    ref = AggregatePosterior.from_guide(tiny_guide, ds, batch_size=8)
    from_tensor = AggregatePosterior.from_guide(tiny_guide, images, batch_size=8)
    pairs = torch.utils.data.TensorDataset(images, torch.zeros(len(ds)))
    from_dataset = AggregatePosterior.from_guide(tiny_guide, pairs, batch_size=8, device="cpu")
    for agg in (from_tensor, from_dataset):
        torch.testing.assert_close(agg.loc, ref.loc)
        assert agg.factors is None and agg.factor_names is None


def test_guide_args_receive_the_dataset_indices():
    seen = []

    def guide(x, indices):
        seen.append(indices.clone())
        loc = indices.double()[:, None].expand(-1, 2).float()
        with pyro.plate("data", size=30, subsample=indices):
            pyro.sample("z", dist.Normal(loc, 1.0).to_event(1))

    agg = AggregatePosterior.from_guide(
        guide, TinyBars(), num_points=9, batch_size=4, guide_args=lambda x, idx: (x, idx)
    )
    np.testing.assert_array_equal(torch.cat(seen).numpy(), agg.indices)
    np.testing.assert_array_equal(agg.loc[:, 0].numpy(), agg.indices)
    assert agg.dataset_size == 30 and [len(s) for s in seen] == [4, 5]  # last lone point joins


def test_batches_never_leave_a_single_point():
    for m, b in [(9, 4), (10, 4), (3, 2), (2, 256)]:
        parts = batch_slices(m, b)
        sizes = [p.stop - p.start for p in parts]
        assert sum(sizes) == m and min(sizes) >= 2


def test_prior_can_be_read_from_the_model():
    def model(x):
        with pyro.plate("data", size=30, subsample=torch.arange(x.shape[0])):
            pyro.sample("z", dist.Normal(torch.ones(x.shape[0], 5), 2.0).to_event(1))

    agg = AggregatePosterior.from_guide(tiny_guide, TinyBars(), model=model)
    assert agg.prior_source == "model"
    torch.testing.assert_close(agg.prior_loc, torch.ones(5, dtype=torch.float64))
    torch.testing.assert_close(agg.prior_scale, torch.full((5,), 2.0, dtype=torch.float64))
    _, _, (loc, scale) = _all_encoded()
    expected = torch.distributions.kl_divergence(
        torch.distributions.Normal(loc.double(), scale.double()),
        torch.distributions.Normal(1.0, 2.0),
    ).mean(0)
    np.testing.assert_allclose(agg.kl_per_dim(), expected.numpy(), rtol=1e-12)


def test_laplace_guides_and_several_sites_are_read():
    def laplace_guide(x):
        with pyro.plate("data", size=30, subsample=torch.arange(x.shape[0])):
            pyro.sample("z", dist.Laplace(torch.zeros(x.shape[0], 2), 0.5).to_event(1))

    agg = AggregatePosterior.from_guide(laplace_guide, TinyBars())
    assert isinstance(agg.posterior.parts[0], torch.distributions.Laplace)
    assert agg.prior_source.startswith("N(0, I) (assumed")
    expected = torch.distributions.kl_divergence(
        torch.distributions.Laplace(0.0, 0.5), torch.distributions.Normal(0.0, 1.0)
    )
    np.testing.assert_allclose(agg.kl_per_dim(), [float(expected)] * 2, rtol=1e-6)

    def two_sites(x):
        with pyro.plate("data", size=30, subsample=torch.arange(x.shape[0])):
            pyro.sample("a", dist.Normal(torch.zeros(x.shape[0], 2), 1.0).to_event(1))
            pyro.sample("b", dist.Normal(torch.ones(x.shape[0], 3), 0.5).to_event(1))

    both = AggregatePosterior.from_guide(two_sites, TinyBars())
    assert both.site_names == ("a", "b") and both.latent_dim == 5
    assert both.latent_names == ["a[0]", "a[1]", "b[0]", "b[1]", "b[2]"]
    agg = AggregatePosterior.from_guide(two_sites, TinyBars(), latent_site="b")
    assert agg.latent_dim == 3 and agg.site_name == "b"
    np.testing.assert_allclose(both.site("b").kl_per_dim(), agg.kl_per_dim())
    np.testing.assert_allclose(both.kl_per_dim()[2:], agg.kl_per_dim())
    with pytest.raises(KeyError, match="the sites are"):
        both.site("c")
    with pytest.raises(TypeError, match="guide_args must return"):
        AggregatePosterior.from_guide(tiny_guide, TinyBars(), guide_args=lambda x, i: x)


def test_sampling_codes_and_mixture():
    agg = AggregatePosterior.from_guide(tiny_guide, TinyBars())
    a, b = agg.sample_codes(seed=1), agg.sample_codes(seed=1)
    np.testing.assert_array_equal(a, b)
    assert a.shape == (30, 5) and not np.array_equal(a, agg.sample_codes(seed=2))
    z = agg.sample(20_000, seed=0).numpy()
    # Mixture moments: mean of the means; variance = Var(means) + mean of the variances.
    np.testing.assert_allclose(z.mean(0), agg.mean_codes.mean(0), atol=0.03)
    var = agg.mean_codes.var(0) + (SCALES.double().numpy() ** 2)
    np.testing.assert_allclose(z.var(0), var, rtol=0.05)


def test_marginal_density_is_a_normalised_mixture():
    agg = AggregatePosterior.from_guide(tiny_guide, TinyBars())
    grid = np.linspace(-8, 8, 3201)
    q = agg.marginal_density(grid, chunk=7)
    np.testing.assert_allclose(np.trapezoid(q, grid, axis=1), 1.0, atol=1e-6)
    # A dead latent with the prior's parameters has exactly the prior's marginal.
    np.testing.assert_allclose(q[2], agg.prior_density(grid)[2], atol=1e-12)


def test_bad_parameters_are_rejected():
    loc, scale = torch.zeros(4, 2), torch.ones(4, 2)
    with pytest.raises(ValueError, match="prior_loc must be a scalar or have shape"):
        AggregatePosterior(loc, scale, prior_loc=torch.zeros(3))
    with pytest.raises(ValueError, match="prior_scale must be strictly positive"):
        AggregatePosterior(loc, scale, prior_scale=0.0)
    with pytest.raises(ValueError, match="strictly positive"):
        AggregatePosterior(loc, -scale)
    with pytest.raises(ValueError, match="either loc and scale"):
        AggregatePosterior(loc)
    with pytest.raises(ValueError, match="one row per point"):
        AggregatePosterior(loc, scale, factors=np.zeros((3, 1)))
    with pytest.raises(TypeError, match="a ground-truth dataset, a tensor"):
        AggregatePosterior.from_guide(tiny_guide, 42)
