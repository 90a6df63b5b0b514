"""ELBO state with Pyro's habits: any torch optimiser for the FactorVAE discriminator, and the
README's save/load path next to the param store, read back with weights_only=True."""

import pyro
import pyro.distributions as dist
import pytest
import torch

from pyrodis.inference import CapacityELBO, FactorELBO


def program(n=16, d=3):
    def model(x, idx):
        with pyro.plate("data", size=64, subsample=idx):
            z = pyro.sample("z", dist.Normal(torch.zeros(len(x), d), 1.0).to_event(1))
            pyro.sample("x", dist.Normal(z.sum(-1, keepdim=True), 1.0).to_event(1), obs=x)

    def guide(x, idx):
        w = pyro.param("w", torch.ones(d))
        s = pyro.param("s", torch.ones(d), constraint=dist.constraints.positive)
        with pyro.plate("data", size=64, subsample=idx):
            pyro.sample("z", dist.Normal(x * w, s).to_event(1))

    return model, guide, torch.randn(n, 1), torch.arange(n)


def train(elbo, steps):
    model, guide, x, idx = program()
    svi = pyro.infer.SVI(model, guide, pyro.optim.Adam({"lr": 0.05}), loss=elbo)
    for _ in range(steps):
        svi.step(x, idx)


def test_discriminator_takes_any_torch_optimiser():
    elbo = FactorELBO(gamma=2.0, hidden_sizes=(8,), optimizer=lambda p: torch.optim.SGD(p, lr=0.1))
    train(elbo, 3)
    assert isinstance(elbo.optimizer, torch.optim.SGD)
    assert "disc_acc" in elbo.last_terms


@pytest.mark.parametrize("kind", ["factor", "capacity"])
def test_elbo_state_survives_the_readme_save_load_path(tmp_path, kind):
    def make():
        if kind == "factor":
            return FactorELBO(gamma=2.0, hidden_sizes=(8,), seed=0)
        return CapacityELBO(gamma=10.0, capacity_max=5.0, anneal_steps=10)

    elbo = make()
    pyro.set_rng_seed(0)
    train(elbo, 4)
    store = pyro.get_param_store()
    torch.save(
        {"params": {k: v.detach() for k, v in store.items()}, "elbo": elbo.state_dict()},
        tmp_path / "ckpt.pt",
    )
    pyro.set_rng_seed(1)
    train(elbo, 2)  # the continuation we must reproduce
    expected = dict(elbo.last_terms)

    pyro.clear_param_store()
    again = make()
    model, guide, x, idx = program()
    again.loss(model, guide, x, idx)  # create the params (with their constraints) first
    state = torch.load(tmp_path / "ckpt.pt", weights_only=True)
    for name, value in state["params"].items():
        pyro.get_param_store()[name] = value
    again.load_state_dict(state["elbo"])
    pyro.set_rng_seed(1)
    train(again, 2)
    assert again.num_steps == elbo.num_steps == 6
    for key, value in expected.items():
        assert again.last_terms[key] == pytest.approx(value, rel=1e-5), key
