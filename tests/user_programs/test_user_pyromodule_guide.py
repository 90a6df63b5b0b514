"""Model and guide as ``PyroModule``s: the encoder's weights are PyroModule parameters and the
guide's scale floor a ``PyroParam``."""

import pyro
import pyro.distributions as dist
import pytest
import torch
from inspection import inspect, train
from kit.user_programs import low_rank_data
from pyro.nn import PyroModule, PyroParam
from torch import nn
from torch.distributions import constraints

N, OBS, D = 256, 6, 2


class Encoder(PyroModule):
    def __init__(self):
        super().__init__()
        self.net = PyroModule[nn.Linear](OBS, 2 * D)
        self.floor = PyroParam(torch.tensor(0.05), constraint=constraints.positive)

    def forward(self, x, idx):
        loc, raw = self.net(x).chunk(2, -1)
        with pyro.plate("data", N, subsample=idx):
            return pyro.sample("z", dist.Normal(loc, raw.exp() + self.floor).to_event(1))


class Decoder(PyroModule):
    def __init__(self):
        super().__init__()
        self.net = PyroModule[nn.Linear](D, OBS)

    def forward(self, x, idx):
        with pyro.plate("data", N, subsample=idx):
            z = pyro.sample("z", dist.Normal(x.new_zeros(len(idx), D), 1.0).to_event(1))
            pyro.sample("x", dist.Normal(self.net(z), 0.2).to_event(1), obs=x)


def program():
    data = low_rank_data(N, OBS, seed=8)
    return Decoder(), Encoder(), data


@pytest.mark.parametrize("elbo", ["beta", "tc"])
def test_pyromodule_guide(elbo):
    model, guide, data = program()
    train(model, guide, data, elbo)
    guide.eval()
    agg = inspect(guide, model, data, ["z"])
    assert agg.kl_method == "closed form"
