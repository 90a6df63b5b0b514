"""Each ELBO trains a user-written Pyro program through plain pyro.infer.SVI (no pyrodis class):
other site and plate names, an MLP, a Laplace likelihood; and FactorVAE's discriminator learns."""

import pyro
import pyro.distributions as dist
import pytest
import torch
from pyro.infer import SVI
from pyro.optim import Adam
from torch import nn

from pyrodis.inference import DIPELBO, TCELBO, BetaELBO, CapacityELBO, FactorELBO

N, B, OBS, LATENT = 512, 32, 12, 3


def _data():
    g = torch.Generator().manual_seed(0)
    factors = torch.rand(N, 2, generator=g) * 2 - 1
    mixing = torch.randn(2, OBS, generator=g)
    return torch.tanh(factors @ mixing) + 0.05 * torch.randn(N, OBS, generator=g)


class UserVAE(nn.Module):
    def __init__(self):
        super().__init__()
        self.enc = nn.Sequential(nn.Linear(OBS, 32), nn.ReLU(), nn.Linear(32, 2 * LATENT))
        self.dec = nn.Sequential(nn.Linear(LATENT, 32), nn.ReLU(), nn.Linear(32, OBS))

    def model(self, x, idx):
        pyro.module("user_dec", self.dec)
        with pyro.plate("rows", size=N, subsample=idx):
            code = pyro.sample("code", dist.Normal(x.new_zeros(len(idx), LATENT), 1.0).to_event(1))
            pyro.sample("y", dist.Laplace(self.dec(code), 0.1).to_event(1), obs=x)

    def guide(self, x, idx):
        pyro.module("user_enc", self.enc)
        with pyro.plate("rows", size=N, subsample=idx):
            loc, log_scale = self.enc(x).chunk(2, dim=-1)
            pyro.sample("code", dist.Normal(loc, log_scale.exp()).to_event(1))


ELBOS = {
    "beta": lambda: BetaELBO(beta=4.0),
    "capacity": lambda: CapacityELBO(gamma=5.0, capacity_max=3.0, anneal_steps=100),
    "tc_mss": lambda: TCELBO(beta=6.0, estimator="mss"),
    "tc_mws": lambda: TCELBO(beta=6.0, estimator="mws"),
    "factor": lambda: FactorELBO(gamma=6.4, hidden_sizes=(32, 32), lr=1e-3),
    "dip_i": lambda: DIPELBO(lambda_od=10.0, kind="i"),
    "dip_ii": lambda: DIPELBO(lambda_od=10.0, kind="ii"),
}


@pytest.mark.parametrize("name", list(ELBOS))
def test_user_model_trains_with_plain_svi(name):
    data = _data()
    net = UserVAE()
    elbo = ELBOS[name]()
    svi = SVI(net.model, net.guide, Adam({"lr": 3e-3}), loss=elbo)
    g = torch.Generator().manual_seed(1)
    losses = []
    for _ in range(200):
        idx = torch.randperm(N, generator=g)[:B]
        losses.append(svi.step(data[idx], idx))
        assert torch.isfinite(torch.tensor(elbo.last_terms["loss"]))
    first, last = sum(losses[:20]) / 20, sum(losses[-20:]) / 20
    assert last < first - 0.2 * abs(first), (first, last)
    assert elbo.num_steps == 200


@pytest.mark.parametrize(
    "entangled, product_samples", [(True, "halves"), (True, "previous"), (False, "halves")]
)
def test_factor_discriminator_learns_on_entangled_codes(entangled, product_samples):
    """Codes near a line (strongly correlated dimensions): D must tell q(z) from the product of
    its marginals clearly better than chance, trained only through svi.step. Control: with
    independent dimensions it stays near chance."""
    g = torch.Generator().manual_seed(0)
    s = torch.randn(N, 1, generator=g)
    other = s if entangled else torch.randn(N, 1, generator=g)
    data = torch.cat([s, other + 0.05 * torch.randn(N, 1, generator=g)], dim=1)

    def model(x, idx):
        with pyro.plate("data", size=N, subsample=idx):
            z = pyro.sample("z", dist.Normal(x.new_zeros(len(idx), 2), 1.0).to_event(1))
            pyro.sample("x", dist.Normal(z, 0.1).to_event(1), obs=x)

    def guide(x, idx):
        shift = pyro.param("shift", torch.zeros(2))
        with pyro.plate("data", size=N, subsample=idx):
            pyro.sample("z", dist.Normal(x + shift, 0.02).to_event(1))

    elbo = FactorELBO(
        gamma=0.0, hidden_sizes=(64, 64), lr=1e-3, seed=0, product_samples=product_samples
    )
    svi = SVI(model, guide, Adam({"lr": 1e-3}), loss=elbo)
    accuracies = []
    for _ in range(300):
        idx = torch.randperm(N, generator=g)[:64]
        svi.step(data[idx], idx)
        if "disc_acc" in elbo.last_terms:  # "previous": no update on the first step
            accuracies.append(elbo.last_terms["disc_acc"])
    final = sum(accuracies[-30:]) / 30
    if entangled:
        assert final > 0.8
        assert elbo.last_terms["tc"] > 0.5  # its TC estimate is then clearly positive
    else:
        assert final < 0.65
