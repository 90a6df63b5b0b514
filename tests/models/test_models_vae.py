"""The VAE model/guide pair, its networks and likelihoods."""

import math

import numpy as np
import pyro
import pyro.distributions as dist
import pytest
import torch
from pyro import poutine
from pyro.infer import SVI, Trace_ELBO
from pyro.optim import Adam

from pyrodis.inference import find_latent_sites
from pyrodis.models import VAE, build_networks, get_likelihood


def _traces(vae, x, idx=None):
    guide_trace = poutine.trace(vae.guide).get_trace(x, idx)
    model_trace = poutine.trace(poutine.replay(vae.model, trace=guide_trace)).get_trace(x, idx)
    return guide_trace, model_trace


@pytest.mark.parametrize("architecture", ["locatello", "burgess"])
@pytest.mark.parametrize("size", [32, 64, 128])
def test_conv_networks_shapes(architecture, size):
    enc, dec = build_networks(architecture, (3, size, size), latent_dim=7)
    x = torch.rand(2, 3, size, size)
    loc, scale = enc(x)
    assert loc.shape == scale.shape == (2, 7) and (scale > 0).all()
    assert dec(loc).shape == (2, 3, size, size)


def test_locatello_and_burgess_layers():
    enc, _ = build_networks("locatello", (1, 64, 64), 10)
    convs = [m for m in enc.modules() if isinstance(m, torch.nn.Conv2d)]
    assert [c.out_channels for c in convs] == [32, 32, 64, 64]
    assert all(c.kernel_size == (4, 4) and c.stride == (2, 2) for c in convs)
    linears = [m for m in enc.modules() if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(1024, 256), (256, 20)]
    enc, dec = build_networks("burgess", (1, 64, 64), 10)
    convs = [m for m in enc.modules() if isinstance(m, torch.nn.Conv2d)]
    assert [c.out_channels for c in convs] == [32] * 4
    linears = [m for m in enc.modules() if isinstance(m, torch.nn.Linear)]
    assert [m.out_features for m in linears] == [256, 256, 20]
    deconvs = [m for m in dec.modules() if isinstance(m, torch.nn.ConvTranspose2d)]
    assert [c.out_channels for c in deconvs] == [32, 32, 32, 1]


def test_network_errors():
    with pytest.raises(ValueError, match="architecture='mlp'"):
        build_networks("locatello", (1, 48, 48))
    with pytest.raises(ValueError, match="unknown architecture"):
        build_networks("resnet", (1, 64, 64))


def test_likelihoods_sum_over_pixels_and_scales():
    out = torch.randn(2, 3, 4, 4)
    x = torch.rand(2, 3, 4, 4)
    bern = get_likelihood("bernoulli")(out)
    assert bern.batch_shape == (2,) and bern.event_shape == (3, 4, 4)
    expected = -torch.nn.functional.binary_cross_entropy_with_logits(out, x, reduction="none")
    torch.testing.assert_close(bern.log_prob(x), expected.sum((1, 2, 3)))
    gauss = get_likelihood("gaussian", channels=3)(out)
    sse = ((x - torch.sigmoid(out)) ** 2).sum((1, 2, 3))
    const = 48 * 0.5 * math.log(2 * math.pi * 0.5)
    torch.testing.assert_close(gauss.log_prob(x), -sse - const)  # σ² = 1/2: sum of squares
    lap = get_likelihood("laplace", channels=3)(out)
    sae = (x - torch.sigmoid(out)).abs().sum((1, 2, 3))
    torch.testing.assert_close(lap.log_prob(x), -sae - 48 * math.log(2.0))
    learnt = get_likelihood("laplace", channels=3, scale=0.2, learn_scale=True)
    assert [p.shape for p in learnt.parameters()] == [(3, 1, 1)]
    with pytest.raises(ValueError, match="no scale"):
        get_likelihood("bernoulli", scale=0.1)
    with pytest.raises(ValueError, match="unknown likelihood"):
        get_likelihood("poisson")


def test_vae_follows_the_latent_site_contract():
    vae = VAE(latent_dim=5, image_shape=(1, 8, 8), architecture="mlp", num_data=100, hidden=(16,))
    x = torch.rand(4, 1, 8, 8)
    idx = torch.tensor([3, 50, 7, 99])
    guide_trace, model_trace = _traces(vae, x, idx)
    (site,) = find_latent_sites(guide_trace, model_trace)
    assert (site.name, site.plate, site.dataset_size, site.batch_size) == ("z", "data", 100, 4)
    assert float(site.scale) == 25.0
    assert isinstance(site.dist.base_dist, dist.Normal)
    prior = model_trace.nodes["z"]["fn"]
    torch.testing.assert_close(prior.mean, torch.zeros(4, 5))
    torch.testing.assert_close(prior.variance, torch.ones(4, 5))
    assert model_trace.nodes["x"]["is_observed"]
    assert model_trace.nodes["x"]["fn"].event_shape == (1, 8, 8)
    # without indices the plate subsamples arange(B) of the dataset
    assert guide_trace.nodes["data"]["value"].tolist() == [3, 50, 7, 99]
    assert _traces(vae, x)[0].nodes["data"]["value"].tolist() == [0, 1, 2, 3]


def test_vae_without_num_data_uses_the_batch_and_warns_in_the_elbos():
    vae = VAE(latent_dim=2, image_shape=(1, 8, 8), architecture="mlp", hidden=(16,))
    guide_trace, model_trace = _traces(vae, torch.rand(4, 1, 8, 8))
    with pytest.warns(UserWarning, match="size=N"):
        (site,) = find_latent_sites(guide_trace, model_trace)
    assert site.dataset_size == 4


@pytest.mark.parametrize("likelihood", ["bernoulli", "gaussian", "laplace"])
def test_vae_trains_with_svi_and_registers_every_network_parameter(likelihood):
    torch.manual_seed(0)
    vae = VAE(
        latent_dim=3,
        image_shape=(1, 8, 8),
        likelihood=likelihood,
        architecture="mlp",
        num_data=64,
        hidden=(32,),
        learn_scale=likelihood != "bernoulli",
    )
    x = (torch.rand(16, 1, 8, 8) > 0.5).float()
    svi = SVI(vae.model, vae.guide, Adam({"lr": 1e-2}), loss=Trace_ELBO())
    losses = [svi.step(x, torch.arange(16)) for _ in range(60)]
    assert np.mean(losses[-10:]) < np.mean(losses[:10])
    store = pyro.get_param_store()
    assert len(store.keys()) == len(list(vae.parameters()))


def test_encode_decode_and_representation():
    vae = VAE(latent_dim=4, image_shape=(1, 8, 8), architecture="mlp", num_data=10, hidden=(16,))
    x = torch.rand(7, 1, 8, 8)
    loc, scale = vae.encode(x)
    mean = vae.decode(loc)
    assert mean.shape == (7, 1, 8, 8) and (mean >= 0).all() and (mean <= 1).all()
    codes = vae.representation(batch_size=3)(x)
    assert isinstance(codes, np.ndarray) and codes.dtype == np.float64 and codes.shape == (7, 4)
    np.testing.assert_allclose(codes, loc.detach().double().numpy(), rtol=1e-5, atol=1e-6)
    sampler = vae.representation("sample", seed=1)
    a, b = sampler(x), sampler(x)
    np.testing.assert_array_equal(a, b)  # seeded
    assert not np.allclose(a, codes)
    with pytest.raises(ValueError, match="kind"):
        vae.representation("median")


def test_custom_networks_and_bad_num_data():
    enc, dec = build_networks("mlp", (1, 4, 4), 2, hidden=(8,))
    vae = VAE(latent_dim=2, image_shape=(1, 4, 4), encoder=enc, decoder=dec, num_data=20)
    assert vae.encoder is enc and vae.decoder is dec
    with pytest.raises(ValueError, match="num_data"):
        VAE(num_data=0)


def test_two_vaes_in_one_process_each_train_and_two_runs_load_side_by_side():
    """Regression: the second VAE's SVI used to step the first one's tensors (shared names in
    Pyro's param store) and trained nothing, silently."""
    x = (torch.rand(16, 1, 32, 32) > 0.5).float()
    vaes = [
        VAE(latent_dim=3, image_shape=(1, 32, 32), architecture="mlp", hidden=(32,), num_data=16)
        for _ in range(2)
    ]
    for vae in vaes:
        before = [p.detach().clone() for p in vae.parameters()]
        svi = pyro.infer.SVI(vae.model, vae.guide, pyro.optim.Adam({"lr": 1e-2}), Trace_ELBO())
        for _ in range(3):
            svi.step(x)
        assert all(not torch.equal(b, p) for b, p in zip(before, vae.parameters()))
    first = [p.detach().clone() for p in vaes[0].parameters()]
    svi = pyro.infer.SVI(vaes[0].model, vaes[0].guide, pyro.optim.Adam({"lr": 1e-2}), Trace_ELBO())
    svi.step(x)  # back to the first: it trains again, the second stays as it was
    assert all(not torch.equal(b, p) for b, p in zip(first, vaes[0].parameters()))


def test_conv_networks_run_channels_last_with_plain_sequential_values_and_names():
    """The channels-last layout changes neither the values nor the parameter names (checkpoints)."""
    from torch import nn

    from pyrodis.models.networks import build_networks

    torch.manual_seed(0)
    encoder, decoder = build_networks("locatello", (1, 64, 64), 4)
    x = torch.rand(3, 1, 64, 64)
    loc, scale = encoder(x)
    plain = nn.Sequential(*encoder.body[0])
    h = encoder.body[2](encoder.body[1](plain(x)))
    loc_plain, _ = encoder.head(h).split(4, dim=-1)
    torch.testing.assert_close(loc, loc_plain, rtol=1e-5, atol=1e-5)
    assert decoder(loc).shape == (3, 1, 64, 64)
    names = [name for name, _ in encoder.named_parameters()]
    assert names[:2] == ["body.0.0.weight", "body.0.0.bias"]
    assert any(n.startswith("body.2.0.") for n, _ in decoder.named_parameters())
