"""The bank estimator of log q(z): exact on small N, gradients, MSS/MWS unchanged, state."""

import io
import math

import pyro
import pytest
import torch
from pyro import poutine
from pyro.distributions import Normal, Uniform
from pyro.infer import Trace_ELBO

from pyrodis.inference import TCELBO
from pyrodis.inference.tc_reference_bank import ReferenceBank, bank_log_qz
from pyrodis.runs.config import ConfigError
from pyrodis.runs.objectives import build_objective

N, D = 12, 3


def _encoder(n=N, d=D, seed=0, dtype=torch.float64):
    """A lookup encoder: point n's posterior is N(loc[n], scale[n]) (a user's own guide)."""
    g = torch.Generator().manual_seed(seed)
    loc = torch.randn(n, d, generator=g, dtype=dtype)
    scale = 0.3 + 0.5 * torch.rand(n, d, generator=g, dtype=dtype)
    return loc, scale


def _program(loc, scale, family=Normal):
    n, d = loc.shape

    def model(x, idx):
        with pyro.plate("data", size=n, subsample=idx):
            zeros = loc.new_zeros(len(idx), d)
            z = pyro.sample("z", Normal(zeros, 1.0).to_event(1))
            pyro.sample("x", Normal(z, 1.0).to_event(1), obs=x)

    def guide(x, idx):
        with pyro.plate("data", size=n, subsample=idx):
            pyro.sample("z", family(loc[idx], scale[idx]).to_event(1))

    return model, guide


def _exact(z, loc, scale, own, family=Normal):
    """MI, TC, dwKL integrands per sample, log q(z) by summing all N q(z_i | x_n)."""
    pair = family(loc, scale).log_prob(z.unsqueeze(1))  # (B, N, D)
    log_n = math.log(loc.shape[0])
    log_qz = torch.logsumexp(pair.sum(-1), 1) - log_n
    log_qzd = (torch.logsumexp(pair, 1) - log_n).sum(-1)
    log_q = family(loc[own], scale[own]).log_prob(z).sum(-1)
    log_p = Normal(0.0, 1.0).log_prob(z).sum(-1)
    return log_q - log_qz, log_qz - log_qzd, log_qzd - log_p


def _fill(elbo, model, guide, x, batches):
    for idx in batches:  # a training step without parameters: only the bank changes
        args = (x,) if idx is None else (x[idx], idx)
        elbo.differentiable_loss(model, guide, *args)
        elbo.end_step()


def _fixed_trace(guide, x, idx, seed=3):
    pyro.set_rng_seed(seed)
    trace = poutine.trace(guide).get_trace(x[idx], idx)
    return trace, poutine.replay(guide, trace=trace)


def _uniform(low, high):
    """Bounded supports: many q(z_i | x_j) are exactly 0 (validation off: the batch's own
    pairwise densities evaluate samples outside the other points' supports)."""
    return Uniform(low, high, validate_args=False)


@pytest.mark.parametrize("family", [Normal, _uniform])
def test_bank_holding_every_point_gives_the_exact_terms(family):
    loc, scale = _encoder()
    if family is _uniform:
        loc, scale = loc, loc + 2 * scale
    model, guide = _program(loc, scale, family)
    x = torch.randn(N, D, dtype=torch.float64)
    elbo = TCELBO(estimator="bank", bank_size=N)
    _fill(elbo, model, guide, x, torch.arange(N).split(4))
    assert len(elbo.bank) == N
    idx = torch.tensor([5, 0, 9, 2])
    trace, fixed = _fixed_trace(guide, x, idx)
    elbo.loss(model, fixed, x[idx], idx)
    mi, tc, dwkl = _exact(trace.nodes["z"]["value"], loc, scale, idx, family)
    assert elbo.bank.last_reference_size == N - len(idx)  # the batch's own entries are dropped
    for name, value in (("mi", mi), ("tc", tc), ("dwkl", dwkl)):
        assert elbo.last_terms[name] == pytest.approx(value.mean().item(), abs=1e-10)


def test_stratified_weights_match_the_direct_sum():
    loc, scale = _encoder()
    batch, bank = torch.tensor([1, 4, 7]), torch.tensor([0, 2, 3, 11])
    z = Normal(loc[batch], scale[batch]).sample()
    lb = Normal(loc[batch], scale[batch]).log_prob(z.unsqueeze(1))
    lk = Normal(loc[bank], scale[bank]).log_prob(z.unsqueeze(1))
    log_qz, log_prod = bank_log_qz(lb, lk, N)
    refs = len(batch) - 1 + len(bank)
    for i in range(len(batch)):
        others = [lb[i, j] for j in range(len(batch)) if j != i] + list(lk[i])
        joint = lb[i, i].sum().exp() / N + sum(o.sum().exp() for o in others) * (N - 1) / N / refs
        dims = lb[i, i].exp() / N + sum(o.exp() for o in others) * (N - 1) / N / refs
        assert log_qz[i].item() == pytest.approx(joint.log().item(), rel=1e-12)
        assert log_prod[i].item() == pytest.approx(dims.log().sum().item(), rel=1e-12)


def test_gradient_matches_finite_differences():
    loc, scale = _encoder(n=6, d=2)
    bank_idx, idx = torch.tensor([3, 4, 5]), torch.tensor([0, 1, 2])
    eps = torch.randn(3, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    bank = Normal(loc[bank_idx], scale[bank_idx])

    def estimate(mu, log_sigma):
        z = mu + log_sigma.exp() * eps
        lb = Normal(mu, log_sigma.exp()).log_prob(z.unsqueeze(1))
        return bank_log_qz(lb, bank.log_prob(z.unsqueeze(1)), 6)

    inputs = (loc[idx].clone().requires_grad_(), scale[idx].log().requires_grad_())
    assert torch.autograd.gradcheck(estimate, inputs)


def test_elbo_gradient_matches_finite_differences():
    loc, scale = _encoder(n=8, d=2)
    x = torch.randn(8, 2, dtype=torch.float64)
    idx = torch.tensor([1, 6, 3])
    elbo = TCELBO(beta=6.0, estimator="bank", bank_size=8)
    _fill(elbo, *_program(loc, scale), x, [torch.tensor([0, 2, 4]), torch.tensor([5, 7, 1])])

    def loss(mu, log_sigma):
        pyro.set_rng_seed(0)  # the same noise at every evaluation
        model, guide = _program(mu, log_sigma.exp())
        return elbo.differentiable_loss(model, guide, x[idx], idx)

    inputs = (loc.clone().requires_grad_(), scale.log().requires_grad_())
    # (pyro's NaN hook on the loss does not accept gradcheck's undefined-gradient probe)
    assert torch.autograd.gradcheck(loss, inputs, check_undefined_grad=False)


def _direct_log_qz(pairs, estimator):
    """MSS (Chen et al. App. C.2: own 1/N, one stratum (N−M)/(NM), 1/M elsewhere, M = B − 1)
    or MWS (1/(N·B) everywhere), by a loop over the weights."""
    batch = pairs.shape[0]
    m = batch - 1
    out = []
    for i in range(batch):
        total = 0.0
        for j in range(batch):
            if estimator == "mws":
                w = 1.0 / (N * batch)
            else:
                w = 1 / N if j == i else (N - m) / (N * m) if j == (i + 1) % batch else 1 / m
            total = total + w * pairs[i, j].exp()
        out.append(total.log())
    return torch.stack(out)


@pytest.mark.parametrize("estimator", ["mss", "mws"])
def test_published_estimators_are_unchanged(estimator):
    loc, scale = _encoder()
    model, guide = _program(loc, scale)
    x = torch.randn(N, D, dtype=torch.float64)
    idx = torch.tensor([3, 8, 0, 10, 6])
    trace, fixed = _fixed_trace(guide, x, idx)
    z = trace.nodes["z"]["value"]
    elbo = TCELBO(estimator=estimator)
    elbo.loss(model, fixed, x[idx], idx)
    pairs = Normal(loc[idx], scale[idx]).log_prob(z.unsqueeze(1))  # (B, B, D)
    log_qz = _direct_log_qz(pairs.sum(-1), estimator)
    log_qzd = torch.stack([_direct_log_qz(pairs[..., d], estimator) for d in range(D)], -1)
    log_q = Normal(loc[idx], scale[idx]).log_prob(z).sum(-1)
    log_p = Normal(0.0, 1.0).log_prob(z).sum(-1)
    expected = {
        "mi": log_q - log_qz,
        "tc": log_qz - log_qzd.sum(-1),
        "dwkl": log_qzd.sum(-1) - log_p,
    }
    for name, value in expected.items():
        assert elbo.last_terms[name] == pytest.approx(value.mean().item(), abs=1e-10)
    assert elbo.estimate_label == estimator and elbo.term_labels["tc"] == f"tc_{estimator}"


def test_neutral_weights_equal_trace_elbo_with_a_part_filled_bank():
    loc, scale = _encoder()
    model, guide = _program(loc, scale)
    x = torch.randn(N, D, dtype=torch.float64)
    elbo = TCELBO(alpha=1.0, beta=1.0, gamma=1.0, estimator="bank", bank_size=5)
    _fill(elbo, model, guide, x, [torch.tensor([0, 1, 2]), torch.tensor([3, 4, 5])])
    idx = torch.tensor([4, 7, 9])
    _, fixed = _fixed_trace(guide, x, idx)
    expected = Trace_ELBO().differentiable_loss(model, fixed, x[idx], idx)
    got = elbo.differentiable_loss(model, fixed, x[idx], idx)
    assert elbo.bank.last_reference_size == 4  # 5 held, index 4 is in the batch
    torch.testing.assert_close(got, expected, rtol=1e-12, atol=1e-9)


def test_bank_is_fifo_and_a_point_pushed_again_replaces_its_entry():
    bank = ReferenceBank(4)
    params = [{"loc": torch.arange(3.0)[:, None], "scale": torch.ones(3, 1)}]
    bank.push(params, torch.tensor([0, 1, 2]))
    bank.push([{k: v[:2] + 10 for k, v in params[0].items()}], torch.tensor([2, 3]))
    held = bank.index[bank.index >= 0]
    assert sorted(held.tolist()) == [1, 2, 3] and len(bank) == 3  # 0 was the oldest
    assert bank.params[0]["loc"][bank.index == 2].item() == 10.0  # the new entry of point 2


def test_state_dict_round_trip_reproduces_the_next_loss():
    loc, scale = _encoder(dtype=torch.float32)
    model, guide = _program(loc, scale)
    x = torch.randn(N, D)
    elbo = TCELBO(estimator="bank", bank_size=7)
    _fill(elbo, model, guide, x, torch.randperm(N).split(3))
    buffer = io.BytesIO()
    torch.save(elbo.state_dict(), buffer)
    buffer.seek(0)
    restored = TCELBO(estimator="bank", bank_size=7)
    restored.load_state_dict(torch.load(buffer, weights_only=True))
    assert restored.num_steps == elbo.num_steps == 4
    idx = torch.tensor([2, 5, 11])
    _, fixed = _fixed_trace(guide, x, idx)
    assert restored.loss(model, fixed, x[idx], idx) == elbo.loss(model, fixed, x[idx], idx)
    assert restored.last_terms == elbo.last_terms
    with pytest.raises(ValueError, match="bank_size=7"):
        TCELBO(estimator="bank", bank_size=8).load_state_dict(elbo.state_dict())


def test_bad_settings_say_what_to_do():
    with pytest.raises(ValueError, match="only with estimator='bank'"):
        TCELBO(estimator="mss", bank_size=16)
    with pytest.raises(ValueError, match="positive integer"):
        TCELBO(estimator="bank", bank_size=0)
    with pytest.raises(ValueError, match="estimator must be one of"):
        TCELBO(estimator="banks")
    with pytest.raises(ConfigError, match="bank_size"):
        build_objective("beta-tcvae", {"estimator": "bank", "bank_size": -3})
    assert build_objective("beta-tcvae", {"estimator": "bank", "bank_size": 32}).bank.size == 32


def test_bank_reads_the_indices_pyro_draws():
    loc, scale = _encoder()
    x = torch.randn(4, D, dtype=torch.float64)

    def model(x):
        with pyro.plate("data", size=N, subsample_size=4) as idx:
            z = pyro.sample("z", Normal(torch.zeros(4, D, dtype=torch.float64), 1.0).to_event(1))
            pyro.sample("x", Normal(z, 1.0).to_event(1), obs=x)
            return idx

    def guide(x):
        with pyro.plate("data", size=N, subsample_size=4) as idx:
            pyro.sample("z", Normal(loc[idx], scale[idx]).to_event(1))

    elbo = TCELBO(estimator="bank", bank_size=N)
    pyro.set_rng_seed(2)
    _fill(elbo, model, guide, x, [None])
    pyro.set_rng_seed(2)
    drawn = poutine.trace(guide).get_trace(x).nodes["data"]["value"]
    assert sorted(elbo.bank.index[elbo.bank.index >= 0].tolist()) == sorted(drawn.tolist())


def test_cli_resume_with_a_bank_matches_the_uninterrupted_run(tmp_path):
    """The bank is saved with the checkpoint: a resumed run logs exactly the same losses."""
    import csv

    from pyrodis.cli import main

    args = ["train", "--preset", "beta-tcvae", "--dataset", "dsprites", "--seed", "2"]
    for item in (
        "train.batch_size=8",
        "train.log_every=1",
        "train.checkpoint_every=3",
        "model.latent_dim=4",
        "objective.estimator='bank'",
        "objective.bank_size=12",
    ):
        args += ["--set", item]
    args.append("--no-progress")
    assert main([*args, "--steps", "6", "--out", str(tmp_path / "a")]) == 0
    assert main([*args, "--steps", "3", "--out", str(tmp_path / "b")]) == 0
    assert main(["train", "--resume", str(tmp_path / "b"), "--steps", "6", "--no-progress"]) == 0
    logs = []
    for run in ("a", "b"):
        with open(tmp_path / run / "log.csv", newline="") as fh:
            logs.append(
                [{k: v for k, v in r.items() if k != "images_per_s"} for r in csv.DictReader(fh)]
            )
    assert len(logs[0]) == 6 and logs[0] == logs[1]
