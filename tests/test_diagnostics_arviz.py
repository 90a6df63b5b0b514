"""ArviZ export of the aggregate posterior: groups, dims, coordinates, and ArviZ functions."""

import warnings

import matplotlib
import numpy as np
import pytest
from test_diagnostics_support import TinyBars, tiny_guide

from pyrodis.diagnostics import AggregatePosterior

matplotlib.use("Agg")

with warnings.catch_warnings():
    warnings.simplefilter("ignore", FutureWarning)
    import arviz as az


@pytest.fixture
def agg():
    return AggregatePosterior.from_guide(tiny_guide, TinyBars())


def test_groups_dims_and_coordinates(agg):
    idata = agg.to_inference_data(num_samples=300, seed=1)
    assert {"posterior", "prior", "encoder", "constant_data"} <= set(idata.groups())
    z = idata.posterior["z"]
    assert z.dims == ("chain", "draw", "latent") and z.shape == (1, 300, 5)
    assert list(z.coords["latent"].values) == ["z0", "z1", "z2", "z3", "z4"]
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
    assert abs(float(z.sel(latent="z2").mean())) < 0.2


def test_latents_can_be_named_by_their_matched_factor(agg):
    idata = agg.to_inference_data(num_samples=50, latent_names="factor")
    assert list(idata.posterior["latent"].values) == ["row", "col", "z2", "z3", "z4"]
    with pytest.raises(ValueError, match="distinct names"):
        agg.to_inference_data(latent_names=["a", "a", "b", "c", "d"])


def test_arviz_summary_and_plots_work_on_q_z(agg):
    idata = agg.to_inference_data(num_samples=400)
    summary = az.summary(idata, kind="stats")
    assert summary.shape == (5, 4)
    assert list(summary.index) == [f"z[z{j}]" for j in range(5)]
    np.testing.assert_allclose(
        summary["mean"].values, idata.posterior["z"].mean(("chain", "draw")).values, atol=1e-3
    )
    import matplotlib.pyplot as plt

    az.plot_posterior(idata, var_names=["z"], coords={"latent": ["z0", "z1"]})
    az.plot_pair(idata, var_names=["z"], coords={"latent": ["z0", "z1", "z4"]})
    az.plot_kde(idata.posterior["z"].sel(latent="z0").values.ravel())
    plt.close("all")


def test_docstring_examples_run():
    import doctest

    import matplotlib.pyplot as plt

    from pyrodis.diagnostics import aggregate, arviz_export

    for module in (aggregate, arviz_export):
        result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
        assert result.attempted > 0 and result.failed == 0, module.__name__
    plt.close("all")
