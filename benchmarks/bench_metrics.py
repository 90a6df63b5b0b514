"""Benchmark: pyrodis.metrics' full suite vs the reference protocol restated with sklearn defaults.

Run (from the repository root; PYTHONPATH=. so that this checkout, not an editable install
elsewhere, is measured):  OMP_WAIT_POLICY=PASSIVE PYTHONPATH=. python benchmarks/bench_metrics.py [--quick]

Both sides evaluate the same cheap synthetic 10-latent representation (a fixed random linear map
of the normalised factors + tanh) on a fake dSprites-like dataset (factor sizes 1, 3, 6, 40, 32,
32; the observation of a factor vector is that vector), so the figures measure the metrics, not a
network.  The REFERENCE side below is a faithful re-statement of the Locatello et al. 2019
protocols (disentanglement_lib) with scikit-learn's default estimators: per-batch sampling and
encoding (16 points, 64 for BetaVAE/FactorVAE), ``sklearn.metrics.mutual_info_score`` per pair,
``GradientBoostingClassifier()`` for DCI, ``LinearSVC`` per (code, factor) for SAP,
``LogisticRegression`` + ``roc_auc_score`` for explicitness, ``scipy.linalg.sqrtm`` for the
Wasserstein dependency, and each protocol drawing its own samples.  As in disentanglement_lib the
constant colour factor is dropped.  The reference takes minutes, so it is run ONCE; the pyrodis
suite is run before and after it (median reported).  ``--quick`` shrinks every size 10× (smoke).
"""

from __future__ import annotations

import argparse
import os
import time
import warnings

from pyrodis.openmp import set_passive_wait

set_passive_wait()  # before torch is imported: it loads the OpenMP runtime

import numpy as np  # noqa: E402
import scipy.linalg  # noqa: E402
import torch  # noqa: E402
from sklearn import linear_model, svm  # noqa: E402
from sklearn.ensemble import GradientBoostingClassifier  # noqa: E402
from sklearn.metrics import mutual_info_score, roc_auc_score  # noqa: E402
from sklearn.preprocessing import MultiLabelBinarizer  # noqa: E402

from pyrodis.data.base import GroundTruthDataset  # noqa: E402
from pyrodis.metrics import evaluate  # noqa: E402

SIZES = (1, 3, 6, 40, 32, 32)


class FakeSprites(GroundTruthDataset):
    """dSprites' factor grid; the observation of a factor vector is the vector itself."""

    factor_sizes = SIZES
    factor_names = ("color", "shape", "scale", "orientation", "posX", "posY")
    factor_values = tuple(np.arange(s, dtype=np.float64) for s in SIZES)
    observation_shape = (1, 1, len(SIZES))

    def observations(self, factors):
        arr = np.asarray(factors, dtype=np.float32)
        return torch.from_numpy(arr).reshape(len(arr), 1, 1, -1)


class SyntheticEncoder:
    """10 latents: tanh of a fixed random linear map of the normalised factors (partly aligned)."""

    def __init__(self, seed=0, latents=10):
        rng = np.random.default_rng(seed)
        self.w = 0.4 * rng.normal(size=(len(SIZES), latents))
        self.w[np.arange(1, 6), np.arange(5)] += 2.0
        self.b = 0.1 * rng.normal(size=latents)

    def __call__(self, obs):
        f = obs.reshape(len(obs), -1).numpy().astype(np.float64) / np.maximum(
            np.array(SIZES) - 1, 1
        )
        return np.tanh(f @ self.w + self.b)


# ----------------------------------------------------------- the reference protocol (restated)
def ref_factor_code(data, rep, num, rs, batch=16):
    reps, facs = [], []
    i = 0
    while i < num:
        n = min(num - i, batch)
        f = data.sample_factors(n, rs)
        reps.append(rep(data.observations(f)))
        facs.append(f)
        i += n
    return np.concatenate(reps).T, np.concatenate(facs).T[1:]  # drop colour, as dlib does


def ref_discretize(z, bins=20):
    out = np.zeros_like(z, dtype=np.int64)
    for i in range(z.shape[0]):
        out[i] = np.digitize(z[i], np.histogram(z[i], bins)[1][:-1])
    return out


def ref_mi(a, b):
    m = np.zeros((a.shape[0], b.shape[0]))
    for i in range(a.shape[0]):
        for j in range(b.shape[0]):
            m[i, j] = mutual_info_score(b[j], a[i])
    return m


def ref_mig(data, rep, seed, n):
    z, y = ref_factor_code(data, rep, n, np.random.default_rng(seed))
    m = ref_mi(ref_discretize(z), y)
    h = np.array([mutual_info_score(y[j], y[j]) for j in range(y.shape[0])])
    s = np.sort(m, axis=0)[::-1]
    return {"mig": float(np.mean((s[0] - s[1]) / h))}


def ref_dci(data, rep, seed, n, nt):
    rs = np.random.default_rng(seed)
    z, y = ref_factor_code(data, rep, n, rs)
    zt, yt = ref_factor_code(data, rep, nt, rs)
    imp = np.zeros((z.shape[0], y.shape[0]))
    acc = []
    for k in range(y.shape[0]):
        model = GradientBoostingClassifier().fit(z.T, y[k])
        imp[:, k] = np.abs(model.feature_importances_)
        acc.append(np.mean(model.predict(zt.T) == yt[k]))
    ent = scipy.stats.entropy(imp.T + 1e-11, base=imp.shape[1])
    d = np.sum((1 - ent) * imp.sum(1) / imp.sum())
    c = np.mean(1 - scipy.stats.entropy(imp + 1e-11, base=imp.shape[0]))
    return {"disentanglement": d, "completeness": c, "informativeness": float(np.mean(acc))}


def ref_sap(data, rep, seed, n, nt):
    rs = np.random.default_rng(seed)
    z, y = ref_factor_code(data, rep, n, rs)
    zt, yt = ref_factor_code(data, rep, nt, rs)
    s = np.zeros((z.shape[0], y.shape[0]))
    for i in range(z.shape[0]):
        for j in range(y.shape[0]):
            clf = svm.LinearSVC(C=0.01, class_weight="balanced").fit(z[i][:, None], y[j])
            s[i, j] = np.mean(clf.predict(zt[i][:, None]) == yt[j])
    srt = np.sort(s, axis=0)
    return {"sap": float(np.mean(srt[-1] - srt[-2]))}


def ref_modularity(data, rep, seed, n, nt):
    rs = np.random.default_rng(seed)
    z, y = ref_factor_code(data, rep, n, rs)
    zt, yt = ref_factor_code(data, rep, nt, rs)
    sq = ref_mi(ref_discretize(z), y) ** 2
    top = sq.max(1)
    mod = 1 - (sq.sum(1) - top) / (top * (sq.shape[1] - 1))
    mod[top == 0] = 0
    mean, std = z.mean(1, keepdims=True), z.std(1, keepdims=True)
    zn, ztn = (z - mean) / std, (zt - mean) / std
    scores = []
    for k in range(y.shape[0]):
        clf = linear_model.LogisticRegression().fit(zn.T, y[k])
        mlb = MultiLabelBinarizer()
        scores.append(roc_auc_score(mlb.fit_transform(yt[k][:, None]), clf.predict_proba(ztn.T)))
    return {"modularity": float(np.mean(mod)), "explicitness": float(np.mean(scores))}


def ref_irs(data, rep, seed, n):
    z, y = ref_factor_code(data, rep, n, np.random.default_rng(seed))
    y, lat = ref_discretize(y).T, z[z.var(1) > 0].T
    max_dev = np.max(np.abs(lat - lat.mean(0)), 0)
    cum = np.zeros((lat.shape[1], y.shape[1]))
    for i in range(y.shape[1]):
        values = np.unique(y[:, i])
        for v in values:
            g = lat[y[:, i] == v]
            cum[:, i] += np.percentile(np.abs(g - g.mean(0)), 99, axis=0)
        cum[:, i] /= len(values)
    scores = (1 - cum / max_dev[:, None]).max(1)
    return {"irs": float(np.average(scores, weights=max_dev))}


def ref_unsupervised(data, rep, seed, n):
    z, _ = ref_factor_code(data, rep, n, np.random.default_rng(seed))
    cov = np.cov(z)
    tc = 0.5 * (np.sum(np.log(np.diag(cov))) - np.linalg.slogdet(cov)[1])
    w = 2 * np.trace(cov) - 2 * np.trace(scipy.linalg.sqrtm(cov * np.diag(cov)[:, None]))
    mi = ref_mi(ref_discretize(z), ref_discretize(z))
    np.fill_diagonal(mi, 0)
    return {
        "gaussian_total_correlation": float(tc),
        "wasserstein_dependency": float(np.real(w)),
        "mutual_info_score": float(mi.sum() / (len(z) ** 2 - len(z))),
    }


def ref_beta_vae(data, rep, seed, n, ne, batch=64):
    rs = np.random.default_rng(seed)

    def points(num):
        x, lab = [], []
        for _ in range(num):
            k = 1 + rs.integers(len(SIZES) - 1)
            f1, f2 = data.sample_factors(batch, rs), data.sample_factors(batch, rs)
            f2[:, k] = f1[:, k]
            x.append(np.mean(np.abs(rep(data.observations(f1)) - rep(data.observations(f2))), 0))
            lab.append(k)
        return np.array(x), np.array(lab)

    x, lab = points(n)
    model = linear_model.LogisticRegression().fit(x, lab)
    xe, le = points(ne)
    return {"beta_vae": float(model.score(xe, le))}


def ref_factor_vae(data, rep, seed, n, ne, nv, batch=64):
    rs = np.random.default_rng(seed)
    var = np.var(rep(data.observations(data.sample_factors(nv, rs))), axis=0, ddof=1)
    active = np.sqrt(var) >= 0.05

    def votes(num):
        v = np.zeros((len(SIZES), active.sum()))
        for _ in range(num):
            k = 1 + rs.integers(len(SIZES) - 1)
            f = data.sample_factors(batch, rs)
            f[:, k] = f[0, k]
            local = np.var(rep(data.observations(f)), axis=0, ddof=1)
            v[k, np.argmin(local[active] / var[active])] += 1
        return v

    tv = votes(n)
    cls = tv.argmax(0)
    ev = votes(ne)
    return {"factor_vae": float(ev[cls, np.arange(ev.shape[1])].sum() / ev.sum())}


def reference_suite(data, rep, seed, scale):
    n, nt = 10_000 // scale, 5_000 // scale
    jobs = {
        "beta_vae": lambda: ref_beta_vae(data, rep, seed, n, nt),
        "factor_vae": lambda: ref_factor_vae(data, rep, seed, n, nt, n),
        "mig": lambda: ref_mig(data, rep, seed, n),
        "dci": lambda: ref_dci(data, rep, seed, n, nt),
        "sap": lambda: ref_sap(data, rep, seed, n, nt),
        "modularity": lambda: ref_modularity(data, rep, seed, n, nt),
        "irs": lambda: ref_irs(data, rep, seed, n),
        "unsupervised": lambda: ref_unsupervised(data, rep, seed, n),
    }
    times, values = {}, {}
    for name, job in jobs.items():
        start = time.perf_counter()
        values[name] = job()
        times[name] = time.perf_counter() - start
        print(f"  reference {name:13s} {times[name]:8.2f} s  {values[name]}", flush=True)
    return times, values


def pyrodis_suite(data, rep, seed, scale):
    if scale == 1:
        options = None
    else:
        n, nt = 10_000 // scale, 5_000 // scale
        both = {"num_train": n, "num_test": nt}
        options = {
            "beta_vae": {"num_train": n, "num_eval": nt},
            "factor_vae": {"num_train": n, "num_eval": nt, "num_variance_estimate": n},
            "mig": {"num_train": n},
            "dci": both,
            "sap": both,
            "modularity": both,
            "irs": {"num_train": n},
            "unsupervised": {"num_train": n},
        }
    start = time.perf_counter()
    result = evaluate(rep, data, seed=seed, options=options)
    return time.perf_counter() - start, result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10x smaller sizes (smoke test)")
    args = parser.parse_args()
    scale = 10 if args.quick else 1
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore")
    data, rep = FakeSprites(), SyntheticEncoder()
    print(f"sizes: num_train={10_000 // scale}, num_test={5_000 // scale}; torch threads 1")
    t_before, ours = pyrodis_suite(data, rep, 0, scale)
    print(f"pyrodis suite (run 1): {t_before:.2f} s", flush=True)
    ref_times, ref_values = reference_suite(data, rep, 0, scale)
    t_after, _ = pyrodis_suite(data, rep, 0, scale)
    print(f"pyrodis suite (run 2): {t_after:.2f} s", flush=True)
    t_third, _ = pyrodis_suite(data, rep, 0, scale)
    ours_total = float(np.median([t_before, t_after, t_third]))
    ref_total = sum(ref_times.values())
    print("\n| metric | reference (s) | pyrodis (s) | ratio | reference value | pyrodis value |")
    print("|---|---|---|---|---|---|")
    for name, seconds in ref_times.items():
        mine = ours.seconds[name]
        cells = f"{seconds:.2f} | {mine:.2f} | {seconds / mine:.1f}x"
        for sub, value in ref_values[name].items():
            got = ours[name].get(sub, float("nan"))
            print(f"| {name}.{sub} | {cells} | {value:.4f} | {got:.4f} |")
            cells = " | | "  # times once per metric
    print(
        f"\nsuite: reference {ref_total:.1f} s (one run), pyrodis median of 3 "
        f"{ours_total:.2f} s ({t_before:.2f}, {t_after:.2f}, {t_third:.2f}) -> "
        f"{ref_total / ours_total:.1f}x faster (torch threads 1: one factor's classifier at a time)"
    )
    cores = len(os.sched_getaffinity(0))
    if cores > 1:  # DCI and explicitness fit their factors on torch's threads (same values)
        torch.set_num_threads(cores)
        t_cores, on_cores = pyrodis_suite(data, rep, 0, scale)
        same = on_cores.to_dict() == ours.to_dict()
        print(
            f"pyrodis suite on {cores} threads: {t_cores:.2f} s -> {ref_total / t_cores:.1f}x "
            f"faster (DCI {on_cores.seconds['dci']:.2f} s; values identical: {same})"
        )


if __name__ == "__main__":
    main()
