"""The README's Python examples run as a user would run them (with the `...` filled in and the
loops shortened)."""

import pathlib
import re

import pytest
import torch

README = (pathlib.Path(__file__).parents[1] / "README.md").read_text()


def _block(after_heading: str) -> str:
    section = README[README.index(after_heading) :]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


class Encoder(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.net = torch.nn.Linear(20, 8)

    def forward(self, x):
        loc, log_scale = self.net(x).chunk(2, -1)
        return loc, log_scale.exp()


def test_your_own_model_block_trains_and_inspects_a_laplace_prior():
    code = _block("## Your own model with a pyrodis ELBO")
    code = code.replace(
        "encoder, decoder = ...", "encoder, decoder = Encoder(), torch.nn.Linear(4, 20)"
    )
    code = code.replace("range(10)", "range(1)")
    namespace = {"Encoder": Encoder, "__name__": "readme"}
    exec(compile(code, "README.md", "exec"), namespace)
    agg = namespace["agg"]
    assert "Laplace" in str(agg.prior_source) or "model" in str(agg.prior_source)
    assert agg.kl_per_dim().shape == (4,)
    terms = namespace["elbo"].last_terms
    assert terms["mi"] + terms["tc"] + terms["dwkl"] == pytest.approx(terms["kl"], rel=1e-4)
