"""Ada-GVAE / Ada-ML-VAE: the aggregation rule and the pair model/guide."""

import math

import numpy as np
import pyro
import pytest
import torch
from pyro import poutine
from pyro.infer import SVI
from pyro.optim import Adam

from pyrodis.data import DSprites, PairedFactors
from pyrodis.inference import BetaELBO, find_latent_sites
from pyrodis.models import VAE, PairVAE, aggregate_pair
from pyrodis.models.pair_vae import adaptive_shared_mask, pair_kl, shared_latents

T = torch.tensor
SMALL = dict(image_shape=(1, 8, 8), architecture="mlp", hidden=(16,))

# row 0: δ = (0, log 2 + 5/8 − 1/2, 2), τ = 1: latents 0 and 1 shared, 2 changed
# row 1: identical posteriors, δ = 0 everywhere: every latent shared
LOC1 = T([[0.0, 1.0, 0.0], [0.5, -1.0, 2.0]], dtype=torch.float64)
SCALE1 = T([[1.0, 1.0, 1.0], [1.0, 2.0, 0.5]], dtype=torch.float64)
LOC2 = T([[0.0, 3.0, 2.0], [0.5, -1.0, 2.0]], dtype=torch.float64)
SCALE2 = T([[1.0, 2.0, 1.0], [1.0, 2.0, 0.5]], dtype=torch.float64)


def test_pair_kl_and_the_adaptive_threshold_hand_worked():
    delta = pair_kl(LOC1, SCALE1, LOC2, SCALE2)
    expected = T([[0.0, math.log(2.0) + 0.125, 2.0], [0.0, 0.0, 0.0]], dtype=torch.float64)
    torch.testing.assert_close(delta, expected)
    mask = adaptive_shared_mask(delta)
    assert mask.tolist() == [[True, True, False], [True, True, True]]
    # δ equal to τ counts as changed; all-equal δ (and D = 1) share every latent
    assert adaptive_shared_mask(T([[0.0, 1.0, 2.0], [3.0, 3.0, 3.0]])).tolist() == [
        [True, False, False],
        [True, True, True],
    ]
    assert adaptive_shared_mask(T([[0.7], [0.0]])).all()


def test_aggregate_gvae_hand_worked():
    loc1, scale1, loc2, scale2, shared = aggregate_pair(LOC1, SCALE1, LOC2, SCALE2, "gvae")
    assert shared.tolist() == [[True, True, False], [True, True, True]]
    # shared: μ = (μ1 + μ2)/2, σ² = (σ1² + σ2²)/2; changed latent 2 keeps its own
    torch.testing.assert_close(loc1[0], T([0.0, 2.0, 0.0], dtype=torch.float64))
    torch.testing.assert_close(loc2[0], T([0.0, 2.0, 2.0], dtype=torch.float64))
    torch.testing.assert_close(scale1[0], T([1.0, math.sqrt(2.5), 1.0], dtype=torch.float64))
    torch.testing.assert_close(scale2[0], scale1[0])
    # identical posteriors are left as they are
    for new, old in ((loc1, LOC1), (scale1, SCALE1), (loc2, LOC2), (scale2, SCALE2)):
        torch.testing.assert_close(new[1], old[1])


def test_aggregate_ml_vae_is_the_product_of_gaussians_hand_worked():
    loc1, scale1, loc2, scale2, _ = aggregate_pair(LOC1, SCALE1, LOC2, SCALE2, "ml-vae")
    # latent 1: precision 1 + 1/4 = 1.25, σ² = 0.8, μ = 0.8 (1/1 + 3/4) = 1.4
    torch.testing.assert_close(loc1[0], T([0.0, 1.4, 0.0], dtype=torch.float64))
    torch.testing.assert_close(loc2[0], T([0.0, 1.4, 2.0], dtype=torch.float64))
    torch.testing.assert_close(
        scale1[0], T([math.sqrt(0.5), math.sqrt(0.8), 1.0], dtype=torch.float64)
    )
    torch.testing.assert_close(scale2[0, :2], scale1[0, :2])
    # identical posteriors: same mean, half the variance (not the reference code's doubling)
    torch.testing.assert_close(loc1[1], LOC1[1])
    torch.testing.assert_close(scale1[1], SCALE1[1] / math.sqrt(2.0))


def test_a_label_mask_overrides_the_threshold():
    shared = T([[False, False, True], [False, True, False]])
    loc1, scale1, loc2, _, used = aggregate_pair(LOC1, SCALE1, LOC2, SCALE2, "gvae", shared)
    assert torch.equal(used, shared)
    torch.testing.assert_close(loc1[0], T([0.0, 1.0, 1.0], dtype=torch.float64))
    torch.testing.assert_close(loc2[0], T([0.0, 3.0, 1.0], dtype=torch.float64))
    torch.testing.assert_close(scale1[1], SCALE1[1])
    # factor labels (n, K) become a latent mask (n, D): latents beyond K are shared
    labels = T([[True, False], [False, True]])
    assert shared_latents(labels, 3).tolist() == [[True, False, True], [False, True, True]]
    with pytest.raises(ValueError, match="latent_dim=1"):
        shared_latents(labels, 1)
    with pytest.raises(ValueError, match="bool mask of shape"):
        aggregate_pair(LOC1, SCALE1, LOC2, SCALE2, "gvae", shared.float())
    with pytest.raises(ValueError, match="unknown aggregation"):
        aggregate_pair(LOC1, SCALE1, LOC2, SCALE2, "mean")


def _pairs(n=16, seed=0):
    """Pairs of 8×8 images of one horizontal and one vertical bar; the pair shares one bar."""
    gen = torch.Generator().manual_seed(seed)
    rows, cols = torch.randint(8, (2, n, 2), generator=gen)
    cols[:, 1] = cols[:, 0]  # the vertical bar is shared
    x = torch.zeros(n, 2, 1, 8, 8)
    for i in range(n):
        for j in range(2):
            x[i, j, 0, rows[i, j], :] = 1.0
            x[i, j, 0, :, cols[i, j]] = 1.0
    return x, torch.arange(n)


def test_pair_model_follows_the_latent_site_contract():
    vae = PairVAE(latent_dim=4, num_data=100, **SMALL)
    x, idx = _pairs(6)
    guide_trace = poutine.trace(vae.guide).get_trace(x, idx)
    model_trace = poutine.trace(poutine.replay(vae.model, trace=guide_trace)).get_trace(x, idx)
    (site,) = find_latent_sites(guide_trace, model_trace)
    # one row per image (first images, then second ones), N pairs: scale N / 2B
    assert site.name == "z" and site.dataset_size == 100 and site.batch_size == 12
    assert site.latent_dim == 4 and site.scale == pytest.approx(100 / 12)
    loc1, _, loc2, _, _ = vae.aggregate(x)
    torch.testing.assert_close(site.dist.mean, torch.cat([loc1, loc2]))
    # the single-image pair is the VAE's
    trace = poutine.trace(vae.guide_single).get_trace(x[:, 0], idx)
    torch.testing.assert_close(trace.nodes["z"]["fn"].mean, vae.encode(x[:, 0])[0])
    assert vae.representation()(x[:, 0]).shape == (6, 4)
    with pytest.raises(ValueError, match=r"\(B, 2, C, H, W\)"):
        vae.guide(x[:, 0], idx)
    with pytest.raises(ValueError, match="unknown aggregation"):
        PairVAE(aggregation="product", **SMALL)


def test_identical_images_give_the_vae_loss_with_every_latent_shared():
    vae = VAE(latent_dim=4, num_data=50, **SMALL)
    pair = PairVAE(latent_dim=4, num_data=50, **SMALL)
    pair.load_state_dict(vae.state_dict())  # same weights, separate tensors
    x1, idx = _pairs(8)
    x = x1[:, 0]
    same = torch.stack([x, x], dim=1)
    assert pair.aggregate(same)[4].all()
    # the same z in both slots of the pair as in the VAE: the same Monte Carlo loss
    vae_trace = poutine.trace(vae.guide).get_trace(x, idx)
    pair_trace = poutine.trace(pair.guide).get_trace(same, idx)
    pair_trace.nodes["z"]["value"] = vae_trace.nodes["z"]["value"].repeat(2, 1)
    elbo_vae, elbo_pair = BetaELBO(beta=4.0), BetaELBO(beta=4.0)
    loss_vae = elbo_vae.loss(vae.model, poutine.replay(vae.guide, trace=vae_trace), x, idx)
    loss_pair = elbo_pair.loss(pair.model, poutine.replay(pair.guide, trace=pair_trace), same, idx)
    assert loss_pair == pytest.approx(loss_vae, rel=1e-6)
    for term in ("recon", "kl"):
        assert elbo_pair.last_terms[term] == pytest.approx(elbo_vae.last_terms[term], rel=1e-6)
    # ML-VAE: every latent shared, the product halves the variance
    ml = PairVAE(latent_dim=4, aggregation="ml-vae", **SMALL)
    ml.load_state_dict(vae.state_dict())
    loc1, scale1, _, _, shared = ml.aggregate(same)
    assert shared.all()
    torch.testing.assert_close(scale1, vae.encode(x)[1] / math.sqrt(2.0))


def _svi(vae, lr=1e-2):
    return SVI(vae.model, vae.guide, Adam({"lr": lr}), loss=BetaELBO(beta=2.0))


@pytest.mark.parametrize("aggregation", ["gvae", "ml-vae"])
def test_svi_with_beta_elbo_lowers_the_loss(aggregation):
    pyro.set_rng_seed(1)
    vae = PairVAE(latent_dim=3, num_data=100, aggregation=aggregation, **SMALL)
    x, idx = _pairs(16)
    svi = _svi(vae)
    losses = [svi.step(x, idx) for _ in range(150)]
    assert np.mean(losses[-10:]) < 0.8 * np.mean(losses[:10])


def test_two_instances_in_one_process_both_train():
    first = PairVAE(latent_dim=3, num_data=100, **SMALL)
    second = PairVAE(latent_dim=3, num_data=100, **SMALL)
    before = [[p.detach().clone() for p in m.parameters()] for m in (first, second)]
    x, idx = _pairs(16)
    svis = [_svi(first), _svi(second)]
    losses = [[], []]
    for _ in range(100):  # alternate steps: each keeps its own parameters and Adam state
        for svi, history in zip(svis, losses):
            history.append(svi.step(x, idx))
    for model, old, history in zip((first, second), before, losses):
        assert all(not torch.equal(p, q) for p, q in zip(model.parameters(), old))
        assert np.mean(history[-10:]) < 0.8 * np.mean(history[:10])


def test_trains_on_paired_dsprites_with_and_without_labels():
    pairs = PairedFactors(DSprites(), k=1)
    x, idx, labels = pairs.draw_batch(4, np.random.default_rng([0, 0]), labels=True)
    vae = PairVAE(latent_dim=6, num_data=len(pairs))
    svi = _svi(vae, lr=1e-4)
    assert np.isfinite(svi.step(x, idx)) and np.isfinite(svi.step(x, idx, labels))
    # the labels decide the mask: latent j shared iff factor j is; latent 5 (no factor) shared
    guide_trace = poutine.trace(vae.guide).get_trace(x, idx, labels)
    loc1, scale1, loc2, scale2, shared = vae.aggregate(x, labels)
    assert shared.tolist() == [[*row, True] for row in labels.tolist()]
    posterior = guide_trace.nodes["z"]["fn"].base_dist
    torch.testing.assert_close(posterior.loc, torch.cat([loc1, loc2]))
    torch.testing.assert_close(posterior.scale, torch.cat([scale1, scale2]))
