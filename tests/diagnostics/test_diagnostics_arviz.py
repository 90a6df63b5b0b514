"""ArviZ export of the aggregate posterior: groups, dims, coordinates, and ArviZ functions."""

import warnings

import matplotlib
import numpy as np
import pytest
from kit.tiny_bars import TinyBars

from pyrodis.diagnostics import AggregatePosterior

matplotlib.use("Agg")

with warnings.catch_warnings():
    warnings.simplefilter("ignore", FutureWarning)
    import arviz as az


def test_groups_dims_and_coordinates(agg):
    idata = agg.to_inference_data(num_samples=300, seed=1)
    assert {"posterior", "prior", "encoder", "constant_data"} <= set(idata.groups())
    z = idata.posterior["z"]
    assert z.dims == ("chain", "draw", "latent") and z.shape == (1, 300, 5)
    assert list(z.coords["latent"].values) == [0, 1, 2, 3, 4]
    assert idata.prior["z"].shape == (1, 300, 5)
    assert idata.encoder["loc"].dims == ("point", "latent")
    np.testing.assert_array_equal(idata.encoder["loc"].values, agg.mean_codes)
    np.testing.assert_array_equal(idata.encoder["scale"].values, agg.scale.numpy())
    np.testing.assert_allclose(idata.encoder["kl"].values, agg.kl_per_dim())
    assert idata.constant_data["factors"].dims == ("point", "factor")
    assert list(idata.constant_data["factor"].values) == ["row", "col"]
    np.testing.assert_array_equal(idata.constant_data["factors"].values, agg.factors)
    np.testing.assert_array_equal(idata.constant_data["dataset_index"].values, agg.indices)
    # The posterior draws are q(z): a dead latent matches the prior's moments.
    assert abs(float(z.sel(latent=2).mean())) < 0.2
    assert idata.encoder.attrs["kl_method"] == "closed form"


def test_latents_can_be_named_by_their_matched_factor(agg):
    idata = agg.to_inference_data(num_samples=50, latent_names="factor")
    assert list(idata.posterior["latent"].values) == ["row", "col", "2", "3", "4"]
    with pytest.raises(ValueError, match="distinct names"):
        agg.to_inference_data(latent_names=["a", "a", "b", "c", "d"])


def test_arviz_summary_and_plots_work_on_q_z(agg):
    idata = agg.to_inference_data(num_samples=400)
    summary = az.summary(idata, kind="stats")
    assert summary.shape == (5, 4)
    assert list(summary.index) == [f"z[{j}]" for j in range(5)]
    np.testing.assert_allclose(
        summary["mean"].values, idata.posterior["z"].mean(("chain", "draw")).values, atol=1e-3
    )
    import matplotlib.pyplot as plt

    az.plot_posterior(idata, var_names=["z"], coords={"latent": [0, 1]})
    az.plot_pair(idata, var_names=["z"], coords={"latent": [0, 1, 4]})
    az.plot_kde(idata.posterior["z"].sel(latent=0).values.ravel())
    plt.close("all")


def test_several_sites_are_variables_named_after_the_sites():
    import pyro
    import pyro.distributions as dist
    import torch

    def guide(x):
        with pyro.plate("data", size=30, subsample=torch.arange(x.shape[0])):
            pyro.sample("content", dist.Normal(torch.zeros(x.shape[0], 2), 1.0).to_event(1))
            pyro.sample("style", dist.Laplace(torch.ones(x.shape[0], 3), 0.5).to_event(1))

    idata = AggregatePosterior.from_guide(guide, TinyBars()).to_inference_data(num_samples=40)
    assert set(idata.posterior.data_vars) == {"content", "style"}
    assert idata.posterior["style"].dims == ("chain", "draw", "latent_style")
    assert idata.prior["content"].shape == (1, 40, 2)
    assert {"content_loc", "style_scale", "style_kl"} <= set(idata.encoder.data_vars)
    index = list(az.summary(idata, kind="stats").index)
    assert index == ["content[0]", "content[1]", "style[0]", "style[1]", "style[2]"]


def test_docstring_examples_run():
    import doctest

    import matplotlib.pyplot as plt

    from pyrodis.diagnostics import aggregate, arviz_export

    for module in (aggregate, arviz_export):  # and the Laplace / Student-t example
        result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
        assert result.attempted > 0 and result.failed == 0, module.__name__
    plt.close("all")
