"""The ELBOs: reduction to Trace_ELBO at neutral settings, terms, schedules, errors, state."""

import math

import pyro
import pytest
import torch
from pyro import poutine
from pyro.infer import SVI, Trace_ELBO
from pyro.optim import Adam

from pyrodis.inference import (
    DIPELBO,
    TCELBO,
    VAEELBO,
    BetaELBO,
    CapacityELBO,
    FactorELBO,
    dip_covariance,
    normalized_beta,
)
from pyrodis.models import VAE

N, B = 200, 16


@pytest.fixture
def vae():
    return VAE(latent_dim=4, image_shape=(1, 8, 8), architecture="mlp", num_data=N, hidden=(32,))


@pytest.fixture
def batch():
    g = torch.Generator().manual_seed(0)
    return (torch.rand(B, 1, 8, 8, generator=g) > 0.5).float(), torch.arange(B) * 3


NEUTRAL = [
    BetaELBO(beta=1.0),
    VAEELBO(),
    TCELBO(alpha=1.0, beta=1.0, gamma=1.0, estimator="mss"),
    TCELBO(alpha=1.0, beta=1.0, gamma=1.0, estimator="mws"),
    FactorELBO(gamma=0.0, hidden_sizes=(16, 16)),
    DIPELBO(lambda_od=0.0, lambda_d=0.0, kind="i"),
    DIPELBO(lambda_od=0.0, kind="ii"),
]


@pytest.mark.parametrize("elbo", NEUTRAL, ids=lambda e: f"{type(e).__name__}")
def test_neutral_settings_equal_trace_elbo_on_the_same_trace(elbo, vae, batch):
    x, idx = batch
    guide_trace = poutine.trace(vae.guide).get_trace(x, idx)
    guide = poutine.replay(vae.guide, trace=guide_trace)  # the same guide samples for both
    expected = Trace_ELBO().differentiable_loss(vae.model, guide, x, idx)
    got = elbo.differentiable_loss(vae.model, guide, x, idx)
    torch.testing.assert_close(got, expected, rtol=1e-6, atol=1e-3)
    assert elbo.loss(vae.model, guide, x, idx) == pytest.approx(expected.item(), rel=1e-6)
    # the gradients agree too
    params = list(vae.parameters())
    g_exp = torch.autograd.grad(expected, params, retain_graph=True)  # z is shared
    g_got = torch.autograd.grad(elbo.differentiable_loss(vae.model, guide, x, idx), params)
    for a, b in zip(g_got, g_exp):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-4)
    terms = elbo.last_terms
    assert terms["loss"] == pytest.approx(expected.item() / N, rel=1e-5)
    assert terms["loss"] == pytest.approx(terms["recon"] + terms["kl"], rel=1e-5)


@pytest.mark.parametrize("estimator", ["mss", "mws"])
def test_tc_terms_sum_to_the_kl_and_weights_act(estimator, vae, batch):
    x, idx = batch
    elbo = TCELBO(alpha=1.0, beta=6.0, gamma=1.0, estimator=estimator)
    pyro.set_rng_seed(5)
    loss = elbo.loss(vae.model, vae.guide, x, idx)
    t = elbo.last_terms
    assert t["mi"] + t["tc"] + t["dwkl"] == pytest.approx(t["kl"], abs=1e-4)
    assert loss / N == pytest.approx(t["recon"] + t["kl"] + 5.0 * t["tc"], rel=1e-5)


def test_beta_scales_the_whole_kl(vae, batch):
    x, idx = batch
    elbo = BetaELBO(beta=4.0)
    pyro.set_rng_seed(1)
    loss = elbo.loss(vae.model, vae.guide, x, idx)
    t = elbo.last_terms
    assert loss / N == pytest.approx(t["recon"] + 4.0 * t["kl"], rel=1e-5)
    assert elbo.beta_norm() == pytest.approx(4.0 * 4 / 64)
    assert elbo.beta_norm(4096, 10) == pytest.approx(normalized_beta(4.0, 4096, 10))


def test_dip_terms_and_type_ii_adds_a_diagonal_matrix():
    mean = torch.randn(32, 3)
    var = torch.rand(32, 3)
    c1 = dip_covariance(mean, var, "i")
    c2 = dip_covariance(mean, var, "ii")
    torch.testing.assert_close(c1, torch.cov(mean.T, correction=0))
    torch.testing.assert_close(c2 - c1, torch.diag(var.mean(0)))  # off-diagonals unchanged
    assert DIPELBO(lambda_od=2.0, kind="i").lambda_d == 20.0
    assert DIPELBO(lambda_od=2.0, kind="ii").lambda_d == 2.0


def test_dip_loss_adds_n_times_the_penalty(vae, batch):
    x, idx = batch
    elbo = DIPELBO(lambda_od=3.0, lambda_d=5.0, kind="ii")
    pyro.set_rng_seed(1)
    loss = elbo.loss(vae.model, vae.guide, x, idx)
    t = elbo.last_terms
    expected = t["recon"] + t["kl"] + 3.0 * t["dip_offdiag"] + 5.0 * t["dip_diag"]
    assert loss / N == pytest.approx(expected, rel=1e-5)


def test_capacity_advances_once_per_training_step_only(vae, batch):
    x, idx = batch
    elbo = CapacityELBO(gamma=10.0, capacity_max=5.0, anneal_steps=4)
    svi = SVI(vae.model, vae.guide, Adam({"lr": 1e-3}), loss=elbo)
    seen = []
    for _ in range(6):
        svi.step(x, idx)
        seen.append(elbo.last_terms["capacity"])
        svi.evaluate_loss(x, idx)  # evaluation: no advance
        elbo.loss(vae.model, vae.guide, x, idx)
    assert seen == [0.0, 1.25, 2.5, 3.75, 5.0, 5.0]
    assert elbo.num_steps == 6
    pyro.set_rng_seed(2)
    loss = elbo.loss(vae.model, vae.guide, x, idx)
    t = elbo.last_terms
    assert loss / N == pytest.approx(t["recon"] + 10.0 * abs(t["kl"] - 5.0), rel=1e-5)
    # particles do not advance the counter more than once per step
    two = CapacityELBO(gamma=1.0, capacity_max=1.0, anneal_steps=10, num_particles=2)
    SVI(vae.model, vae.guide, Adam({"lr": 1e-3}), loss=two).step(x, idx)
    assert two.num_steps == 1


def test_end_step_for_differentiable_loss_training(vae, batch):
    x, idx = batch
    elbo = CapacityELBO(gamma=1.0, capacity_max=2.0, anneal_steps=2)
    optim = torch.optim.Adam(vae.parameters(), lr=1e-3)
    for _ in range(2):
        optim.zero_grad()
        elbo.differentiable_loss(vae.model, vae.guide, x, idx).backward()
        optim.step()
        elbo.end_step()
    assert elbo.capacity == 2.0


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: BetaELBO(beta=-1.0), "beta"),
        (lambda: BetaELBO(beta=float("nan")), "beta"),
        (lambda: CapacityELBO(capacity_max=-5.0), "capacity_max"),
        (lambda: CapacityELBO(anneal_steps=float("nan")), "anneal_steps"),
        (lambda: TCELBO(alpha=-1.0), "alpha"),
        (lambda: TCELBO(gamma=float("inf")), "gamma"),
        (lambda: TCELBO(estimator="exact"), "estimator"),
        (lambda: FactorELBO(gamma=-6.4), "gamma"),
        (lambda: FactorELBO(lr=0.0), "lr"),
        (lambda: DIPELBO(lambda_od=float("nan")), "lambda_od"),
        (lambda: DIPELBO(lambda_d=-1.0), "lambda_d"),
        (lambda: DIPELBO(kind="iii"), "kind"),
        (lambda: BetaELBO(vectorize_particles=True, num_particles=2), "vectorize_particles"),
    ],
)
def test_bad_hyperparameters(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_elbo_kwargs_are_forwarded_by_keyword():
    elbo = TCELBO(num_particles=3, retain_graph=True, max_plate_nesting=2)
    assert (elbo.num_particles, elbo.retain_graph, elbo.max_plate_nesting) == (3, True, 2)


def _train(vae, elbo, x, idx, steps):
    svi = SVI(vae.model, vae.guide, Adam({"lr": 1e-3}), loss=elbo)
    for _ in range(steps):
        svi.step(x, idx)


@pytest.mark.parametrize(
    "make",
    [
        lambda: CapacityELBO(gamma=2.0, capacity_max=3.0, anneal_steps=10),
        lambda: FactorELBO(gamma=2.0, hidden_sizes=(16, 16)),
        lambda: FactorELBO(gamma=2.0, hidden_sizes=(16, 16), product_samples="previous"),
        lambda: TCELBO(beta=3.0),
    ],
    ids=["capacity", "factor", "factor_previous", "tc"],
)
def test_state_dict_round_trip_resumes_exactly(make, vae, batch, tmp_path):
    x, idx = batch
    elbo = make()
    _train(vae, elbo, x, idx, 3)
    path = tmp_path / "elbo.pt"
    torch.save(elbo.state_dict(), path)
    restored = make()
    restored.load_state_dict(torch.load(path, weights_only=True))
    assert restored.num_steps == elbo.num_steps == 3
    if isinstance(elbo, CapacityELBO):
        assert restored.capacity == elbo.capacity
    if isinstance(elbo, FactorELBO):
        for a, b in zip(elbo.discriminator.parameters(), restored.discriminator.parameters()):
            assert torch.equal(a, b)
        if elbo.product_samples == "previous":
            torch.testing.assert_close(restored._previous, elbo._previous)
        # both continue identically: same discriminator update from the same samples
        z = torch.randn(B, 4)
        for e in (elbo, restored):
            e._samples = z
            e.generator = torch.Generator().manual_seed(0)
            e.end_step()
        for a, b in zip(elbo.discriminator.parameters(), restored.discriminator.parameters()):
            torch.testing.assert_close(a, b)
        assert restored.last_terms["disc_loss"] == pytest.approx(elbo.last_terms["disc_loss"])


def test_factor_discriminator_stays_out_of_the_param_store(vae, batch):
    x, idx = batch
    elbo = FactorELBO(gamma=5.0, hidden_sizes=(16, 16))
    _train(vae, elbo, x, idx, 3)
    store = pyro.get_param_store()
    store_ids = {id(store.get_param(name).unconstrained()) for name in store.keys()}
    assert all(id(p) not in store_ids for p in elbo.discriminator.parameters())
    assert set(elbo.last_terms) >= {"loss", "recon", "kl", "tc", "disc_loss", "disc_acc"}
    assert math.isfinite(elbo.last_terms["disc_loss"])


def test_factor_vae_gradient_does_not_reach_the_discriminator(vae, batch):
    x, idx = batch
    elbo = FactorELBO(gamma=5.0, hidden_sizes=(16,))
    elbo.differentiable_loss(vae.model, vae.guide, x, idx).backward()
    assert all(p.grad is None for p in elbo.discriminator.parameters())
    assert all(p.requires_grad for p in elbo.discriminator.parameters())


class _Recorder(torch.nn.Module):
    """A discriminator that records what it is trained on."""

    def __init__(self):
        super().__init__()
        self.lin = torch.nn.Linear(4, 2)
        self.inputs = []

    def forward(self, z):
        if torch.is_grad_enabled() and not z.requires_grad:
            self.inputs.append(z.clone())
        return self.lin(z)


@pytest.mark.parametrize("mode", ["halves", "previous"])
def test_factor_discriminator_sees_independent_permuted_samples(mode, vae, batch):
    x, idx = batch
    recorder = _Recorder()
    elbo = FactorELBO(gamma=1.0, discriminator=recorder, product_samples=mode, seed=0)
    guide_samples = []

    def guide(x, idx):  # the VAE's guide, keeping its samples
        pyro.module("encoder", vae.encoder)
        with pyro.plate("data", size=N, subsample=idx):
            loc, scale = vae.encoder(x)
            z = pyro.sample("z", pyro.distributions.Normal(loc, scale).to_event(1))
        guide_samples.append(z.detach())

    svi = SVI(vae.model, guide, Adam({"lr": 1e-3}), loss=elbo)
    for _ in range(2):
        svi.step(x, idx)
    seen = recorder.inputs[-1]
    z_now, z_before = guide_samples[-1], guide_samples[0]
    if mode == "halves":
        joint_src, product_src = z_now[: B // 2], z_now[B // 2 :]
    else:
        joint_src, product_src = z_now, z_before
    joint, product = seen[: len(joint_src)], seen[len(joint_src) :]
    torch.testing.assert_close(joint, joint_src)
    # each column of the product samples is a permutation of the source's column, across rows
    for d in range(4):
        torch.testing.assert_close(product[:, d].sort().values, product_src[:, d].sort().values)
    assert not torch.equal(product, product_src)
    assert len(recorder.inputs) == (2 if mode == "halves" else 1)
