"""Read the three control studies of ``studies/control-*.toml``: each claim with its n, an interval
and an exact test (``docs/studies.rst``).

Each control compares two settings of one study. Per claim and metric it prints the median and
range of each setting's runs, the difference of the means with a 95 % bootstrap interval
(runs resampled within each setting, 10,000 draws, seed 0), and the exact permutation test of that
difference (:func:`pyrodis.runs.study.exact.permutation_test`) in the direction the claim names,
with the smallest p the design allows, and how many runs of each setting collapsed
(:func:`pyrodis.runs.study.collapse.collapsed_runs`: no active latent).

The saved tables (``results.csv`` of each study, and ``study.json`` of the correlated pair, whose
per-run pair MI needs the trained encoders) are read from ``--dir`` (default
``benchmarks/controls``); ``--copy-from`` first copies them there from the study directories::

    OMP_WAIT_POLICY=PASSIVE PYTHONPATH=. python benchmarks/study_controls.py \\
        --copy-from /work/out          # the parent of the control-* study directories
    OMP_WAIT_POLICY=PASSIVE PYTHONPATH=. python benchmarks/study_controls.py
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import numpy as np

from pyrodis.runs.study.collapse import collapsed_runs
from pyrodis.runs.study.exact import permutation_test
from pyrodis.runs.study.results_table import finite, read_results

STUDIES = ("control-weak-supervision", "control-beta-vae", "control-correlated-pair")
#: (study, label, setting A, setting B, the claim's direction for A - B, metrics)
CLAIMS = [
    (
        "control-weak-supervision",
        "(a) Ada-GVAE vs β-TCVAE β=6, 128 images per step each",
        "ada-gvae__beta=1.0__batch_size=64",
        "beta-tcvae__beta=6.0__batch_size=128",
        "greater",
        ["mig.mig", "factor_vae.factor_vae", "dci.disentanglement"],
    ),
    (
        "control-weak-supervision",
        "(a) Ada-GVAE vs β-VAE β=4, 128 images per step each",
        "ada-gvae__beta=1.0__batch_size=64",
        "beta-vae__beta=4.0__batch_size=128",
        "greater",
        ["mig.mig", "factor_vae.factor_vae", "dci.disentanglement"],
    ),
    (
        "control-beta-vae",
        "(b) β-VAE β=4 vs the plain VAE (β=1)",
        "beta-vae__beta=4.0",
        "vae",
        "greater",
        ["beta_vae.beta_vae", "factor_vae.factor_vae", "mig.mig"],
    ),
    (
        "control-correlated-pair",
        "(c) posX, posY correlated (σ=0.2) vs independent",
        "beta-vae__beta=4.0__correlation_sigma=0.2",
        "beta-vae__beta=4.0__correlation_sigma=inf",
        "greater",
        ["pair.shared", "mig.mig"],
    ),
]


def read_rows(folder: Path, study: str) -> list[dict]:
    rows = [r for r in read_results(folder / study) if r["status"] == "done"]
    summary = folder / study / "study.json"
    if summary.exists():  # the correlated pair's per-run MI of one latent with both factors
        pair = {
            e["trial"]: e["shared"] for e in json.loads(summary.read_text())["correlated_pair_mi"]
        }
        for row in rows:
            if row["trial"] in pair:
                row["pair.shared"] = pair[row["trial"]]
    return rows


def bootstrap_difference(a: np.ndarray, b: np.ndarray, draws: int = 10_000, seed: int = 0):
    rng = np.random.default_rng(seed)
    diffs = rng.choice(a, (draws, len(a))).mean(1) - rng.choice(b, (draws, len(b))).mean(1)
    return np.percentile(diffs, [2.5, 97.5])


def claim_lines(rows: list[dict], label: str, a: str, b: str, side: str, metrics: list[str]):
    yield f"\n{label}"
    gone = {e["trial"] for e in collapsed_runs(rows)}
    counts = [
        f"{name} {sum(r['trial'] in gone for r in rows if r['setting'] == s)}"
        f"/{sum(r['setting'] == s for r in rows)}"
        for name, s in (("A", a), ("B", b))
    ]
    yield f"  collapsed runs (no active latent): {', '.join(counts)}"
    for metric in metrics:
        xa = np.array(
            [float(r[metric]) for r in rows if r["setting"] == a and finite(r.get(metric))]
        )
        xb = np.array(
            [float(r[metric]) for r in rows if r["setting"] == b and finite(r.get(metric))]
        )
        if len(xa) == 0 or len(xb) == 0:
            yield f"  {metric}: no runs"
            continue
        test = permutation_test(xa, xb, alternative=side)
        low, high = bootstrap_difference(xa, xb)
        yield (
            f"  {metric:24s} A median {np.median(xa):.3f} [{xa.min():.3f}, {xa.max():.3f}] (n={len(xa)})"
            f" | B median {np.median(xb):.3f} [{xb.min():.3f}, {xb.max():.3f}] (n={len(xb)})"
            f" | mean A−B {test['difference']:+.3f} [{low:+.3f}, {high:+.3f}]"
            f" | exact p ({side}) = {test['p_value']:.3f} (floor {test['min_p']:.3f})"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=Path("benchmarks/controls"))
    parser.add_argument("--copy-from", type=Path, help="parent of the control-* study directories")
    args = parser.parse_args()
    if args.copy_from:
        for study in STUDIES:
            (args.dir / study).mkdir(parents=True, exist_ok=True)
            for name in ("results.csv", "study.json"):
                if (args.copy_from / study / name).exists():
                    shutil.copy(args.copy_from / study / name, args.dir / study / name)
    for study, label, a, b, side, metrics in CLAIMS:
        if not (args.dir / study / "results.csv").exists():
            print(f"\n{label}: {study} not run")
            continue
        for line in claim_lines(read_rows(args.dir, study), label, a, b, side, metrics):
            print(line)


if __name__ == "__main__":
    main()
