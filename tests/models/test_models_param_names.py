"""Each PyroModule instance trains its own parameters (Pyro's param store is global)."""

import pyro
import pyro.distributions as dist
import pytest
import torch
from pyro import poutine
from pyro.nn import PyroModule, PyroParam, pyro_method
from torch import nn

from pyrodis.models.param_names import claim_param_names, param_store_names


class Inner(PyroModule):
    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(2))
        self.scale = PyroParam(torch.ones(2), constraint=dist.constraints.positive)


class Net(PyroModule):
    def __init__(self, claim: bool = True):
        super().__init__()
        self.claim = claim
        self.bias = nn.Parameter(torch.zeros(2))
        self.inner = Inner()
        self.plain = nn.Sequential(nn.Linear(2, 2), nn.Tanh(), nn.Linear(2, 1))

    @pyro_method
    def forward(self):
        if self.claim:
            claim_param_names(self)
        return self.plain(self.bias + self.inner.weight * self.inner.scale)


def _param_sites(module):
    trace = poutine.trace(module.forward).get_trace()
    return {n: s["value"] for n, s in trace.nodes.items() if s["type"] == "param"}


def test_names_are_those_pyro_registers():
    net = Net()
    names = param_store_names(net)
    assert (
        set(names)
        == set(_param_sites(net))
        == {
            "bias",
            "inner.weight",
            "inner.scale",
            "plain$$$0.weight",
            "plain$$$0.bias",
            "plain$$$2.weight",
            "plain$$$2.bias",
        }
    )
    assert names["inner.scale"] is net.inner.scale_unconstrained
    assert names["plain$$$2.bias"] is net.plain[2].bias


def _unconstrained(value):
    return value.unconstrained() if hasattr(value, "unconstrained") else value


def _own(module, sites):
    """Whether the store and the trace's param sites hold ``module``'s own tensors."""
    names = param_store_names(module)
    store = pyro.get_param_store()
    in_store = all(_unconstrained(store.get_param(n)) is t for n, t in names.items())
    return in_store and all(_unconstrained(v) is names[n] for n, v in sites.items())


@pytest.mark.parametrize("claim", [False, True])
def test_a_second_instance_gets_its_own_tensors_only_when_it_claims(claim):
    first, second = Net(claim), Net(claim)
    _param_sites(first)
    sites = _param_sites(second)
    assert _own(second, sites) is claim  # without the claim, it would train the first's
    assert _own(first, _param_sites(first))  # and back again
    assert claim_param_names(first) == []  # nothing foreign left under its names


def test_claim_rejects_plain_modules():
    with pytest.raises(TypeError, match="PyroModule"):
        claim_param_names(nn.Linear(2, 2))
