"""evaluate(): registry, tidy result, repeats with t-intervals, exact sharing of sampled codes."""

import json

import numpy as np
import pytest
from kit.fake_codes import FactorGrid, noisy, perfect

from pyrodis.metrics import (
    DEFAULT_METRICS,
    METRICS,
    CachedRepresentation,
    dci,
    evaluate,
    mutual_information_gap,
    repeat_seeds,
    sap_score,
)

SIZES = (3, 4)
DATA = FactorGrid(SIZES)
QUICK = {
    "mig": {"num_train": 400},
    "sap": {"num_train": 400, "num_test": 200},
    "unsupervised": {"num_train": 400},
}


def test_registry_describes_every_metric():
    assert set(DEFAULT_METRICS) <= set(METRICS)
    assert "mig_chen" in METRICS and "mig_chen" not in DEFAULT_METRICS
    assert all(isinstance(v, str) and v for v in METRICS.values())


def test_single_run_equals_the_protocol_functions():
    rep = noisy(perfect(SIZES), 0.2)
    result = evaluate(rep, DATA, metrics=list(QUICK), seed=11, options=QUICK)
    alone = mutual_information_gap(noisy(perfect(SIZES), 0.2), DATA, 11, num_train=400)
    assert result["mig"]["mig"] == alone["mig"]
    assert result.repeats == 1 and result.seeds == [11]
    d = result.to_dict()
    assert set(d) == set(QUICK)
    assert set(d["mig"]["mig"]) == {"value"}
    json.dumps(d)
    assert "mig" in result.table() and "wasserstein_dependency" in result.table()


def test_cache_shares_codes_exactly_across_protocols():
    calls = []

    def rep(obs):
        calls.append(len(obs))
        return perfect(SIZES)(obs)

    cached = CachedRepresentation(rep)
    mig = mutual_information_gap(cached, DATA, 5, num_train=300)
    n_after_mig = sum(calls)
    sap = sap_score(cached, DATA, 5, num_train=300, num_test=100)
    assert sum(calls) - n_after_mig == 100  # only the test set is new
    d = dci(cached, DATA, 5, num_train=300, num_test=100)
    assert sum(calls) - n_after_mig == 100  # nothing new
    assert mig == mutual_information_gap(perfect(SIZES), DATA, 5, num_train=300)
    assert sap == sap_score(perfect(SIZES), DATA, 5, num_train=300, num_test=100)
    assert d == dci(perfect(SIZES), DATA, 5, num_train=300, num_test=100)


def test_repeats_give_mean_and_t_interval():
    result = evaluate(noisy(perfect(SIZES), 0.5), DATA, ["mig"], seed=0, repeats=4, options=QUICK)
    assert result.repeats == 4 and len(set(result.seeds)) == 4
    assert result.seeds == repeat_seeds(0, 4)
    s = result.to_dict()["mig"]["mig"]
    values = np.asarray(result.values["mig"]["mig"])
    assert len(set(values)) > 1
    assert s["mean"] == pytest.approx(values.mean()) and s["value"] == s["mean"]
    assert s["std"] == pytest.approx(values.std(ddof=1))
    half = 3.182446305284263 * values.std(ddof=1) / 2  # t_{0.975, 3}
    assert s["ci_low"] == pytest.approx(values.mean() - half)
    assert s["ci_high"] == pytest.approx(values.mean() + half)
    assert "95% CI" in result.table()


def test_evaluate_errors():
    with pytest.raises(ValueError, match="posterior"):
        evaluate(perfect(SIZES), DATA, ["mig_chen"])
    with pytest.raises(ValueError, match="options"):
        evaluate(perfect(SIZES), DATA, ["mig"], options={"dcii": {}})
    with pytest.raises(ValueError, match="repeats"):
        evaluate(perfect(SIZES), DATA, ["mig"], repeats=0)
