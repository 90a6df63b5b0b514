"""The Locatello miniature's claims with their uncertainty (issue 26), from its saved tables.

Reads ``benchmarks/locatello-mini/results.csv`` (27 runs: 9 settings × seeds 0-2) and the per-run
UDR scores saved in ``study.json`` (UDR needs the trained encoders, which are not shipped), runs
:func:`pyrodis.runs.study.uncertainty.uncertainty_analysis` and prints, for each sentence of
README.md / benchmarks/RESULTS.md that says more than the data, the numbers that replace it:
each with its n, its interval and its test. Intervals: 95 %, 2,000 bootstrap draws, seed 0.

Usage::

    OMP_WAIT_POLICY=PASSIVE python benchmarks/study_uncertainty_locatello_mini.py
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np

from pyrodis.runs.study.analyses import supervision
from pyrodis.runs.study.correlation import spearman_intervals
from pyrodis.runs.study.exact import permutation_test
from pyrodis.runs.study.results_table import read_results
from pyrodis.runs.study.uncertainty import uncertainty_analysis

HERE = Path(__file__).parent
MINI = HERE / "locatello-mini"
NAMES = {
    "mig.mig": "MIG",
    "factor_vae.factor_vae": "FactorVAE score",
    "dci.disentanglement": "DCI disentanglement",
    "dci.completeness": "DCI completeness",
    "dci.informativeness": "DCI informativeness",
    "sap.sap": "SAP",
    "modularity.modularity": "modularity",
}
METRICS = list(NAMES)


def ci(lo_hi) -> str:
    return f"[{lo_hi[0]:.2f}, {lo_hi[1]:.2f}]"


def p_fmt(p: float) -> str:
    return f"{p:.2g}" if p < 0.01 else f"{p:.3f}"


def nested_table(out: dict) -> None:
    print("  share of variance over the 24 unsupervised runs (nested, descriptive SS shares),")
    print("  95 % parametric-bootstrap interval; largest share marked *.")
    for m in METRICS:
        s = out["nested_unsupervised"][m]["sources"]
        parts = {k: s[k] for k in ("objective", "hyperparameter", "seed")}
        top = max(parts, key=lambda k: parts[k]["ss_share"])
        cells = [
            f"{k} {v['ss_share']:.2f}{'*' if k == top else ' '} {ci(v['ss_share_ci'])}"
            for k, v in parts.items()
        ]
        print(f"    {NAMES[m]:20s} " + "  ".join(cells))
    noise = out["nested_unsupervised"]["mig.mig"]["sources"]
    print(
        "    pure-noise 95 % ranges: "
        + ", ".join(
            f"{k} {noise[k]['pure_noise']['mean']:.2f} "
            f"[{noise[k]['pure_noise']['low']:.2f}, {noise[k]['pure_noise']['high']:.2f}]"
            for k in ("objective", "hyperparameter", "seed")
        )
    )


def crossed_table(out: dict, key: str, label: str) -> None:
    print(f"  crossed design setting × seed index ({label}): component shares [95 % CI] and the")
    print("  two-way F test of the seed index (df 2, 16 for 9 settings; 2, 14 for 8)")
    for m in METRICS:
        c = out[key][m]
        s, f = c["sources"], c["f_tests"]["seed"]
        print(
            f"    {NAMES[m]:20s} setting {s['setting']['share']:.2f} {ci(s['setting']['share_ci'])}"
            f"  seed {s['seed']['share']:.2f} {ci(s['seed']['share_ci'])}"
            f"  residual {s['residual']['share']:.2f}   F = {f['F']:.2f}, p = {p_fmt(f['p_value'])}"
        )


def spearman_lines(found: dict, pairs: list[tuple[str, str]]) -> None:
    idx = {m: i for i, m in enumerate(found["metrics"])}
    for a, b in pairs:
        i, j = idx[a], idx[b]
        print(
            f"    {NAMES[a]}–{NAMES[b]}: {found['rho'][i][j]:.2f} "
            f"[{found['ci_low'][i][j]:.2f}, {found['ci_high'][i][j]:.2f}], "
            f"p = {p_fmt(found['p_value'][i][j])}"
        )


def values(rows: list[dict], metric: str) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {}
    for r in rows:
        out.setdefault(r["setting"], []).append(float(r[metric]))
    return out


def udr_section(rows: list[dict], out: dict, udr: dict[str, float]) -> None:
    for group, levels in out["udr"].items():
        for level, per in levels.items():
            for m in ("mig.mig", "dci.disentanglement", "factor_vae.factor_vae"):
                x = per[m]
                print(
                    f"    {group:12s} over {level:8s} (n = {x['n']:2d}) UDR–{NAMES[m]}: "
                    f"{x['rho']:.2f} {ci(x['ci'])}, permutation p = {p_fmt(x['p_value'])}"
                )
    mig = values(rows, "mig.mig")
    medians = {s: float(np.median(v)) for s, v in mig.items()}
    unsup = [s for s in mig if not s.startswith("ada-gvae")]
    print(
        f"  random setting, MIG: mean of the 9 settings' medians {np.mean(list(medians.values())):.3f}"
        f" (includes Ada-GVAE); of the 8 unsupervised {np.mean([medians[s] for s in unsup]):.3f}"
    )
    per_setting = {
        s: float(np.median([udr[r["trial"]] for r in rows if r["setting"] == s])) for s in mig
    }
    for preset in ("beta-vae", "beta-tcvae", "factor-vae", "dip-vae-i"):
        names = [s for s in mig if s.startswith(preset + "__")]
        pick, best = max(names, key=per_setting.get), max(names, key=medians.get)
        print(
            f"    {preset}: UDR picks {pick} (UDR {per_setting[pick]:.3f}, MIG {medians[pick]:.3f}); "
            f"MIG best {best} ({medians[best]:.3f})"
        )


def main() -> None:
    rows = read_results(MINI)
    udr = json.loads((MINI / "study.json").read_text())["udr"]["model_scores"]
    out = uncertainty_analysis(rows, METRICS, udr_scores=udr, num_boot=2_000, seed=0)
    unsup_rows = [r for r in rows if supervision(r) == "none"]
    d = out["design"]
    print(f"design: {d['runs']} runs, {d['settings']} settings × seeds {d['seeds']}; an exact test")
    print(f"  of 3 runs against 3 cannot go below p = {d['min_p_two_sided']:.2f} two-sided,")
    print(
        f"  {d['min_p_one_sided']:.2f} one-sided: this study cannot separate two settings at 0.05."
    )

    print(
        '\n[1] RESULTS "The seed explains the largest share of every supervised metric" and README'
    )
    print('    "the seed explains more of each supervised metric\'s variance than the objective":')
    nested_table(out)
    crossed_table(out, "crossed_unsupervised", "24 unsupervised runs")

    print('\n[2] RESULTS "seed 0 of the metrics for every run": evaluate_run scores a run with its')
    print(
        "    config's seed, i.e. its training seed, so the runs of seed k share evaluation draws."
    )
    crossed_table(out, "crossed", "all 27 runs")

    print('\n[3] RESULTS "(Over all 27 runs: 0.71–0.91 between MIG, FactorVAE, DCI and SAP.)":')
    four = ["mig.mig", "factor_vae.factor_vae", "dci.disentanglement", "sap.sap"]
    pairs = [(a, b) for i, a in enumerate(four) for b in four[i + 1 :]]
    print("  over the 27 runs (bootstrap over runs, permutation p):")
    spearman_lines(out["spearman"]["runs"], pairs + [("dci.disentanglement", "dci.completeness")])
    print("  over the 24 unsupervised runs:")
    found = spearman_intervals(unsup_rows, METRICS, level="runs", seed=0)
    mod = [(m, "modularity.modularity") for m in four]
    spearman_lines(found, pairs + mod)
    print("  over the 9 setting medians (two-stage bootstrap):")
    spearman_lines(out["spearman"]["settings"], pairs)

    print('\n[4] RESULTS "Spearman correlation with MIG over the 27 models is only 0.37" and')
    print('    "UDR-selected MIG 0.154 against 0.082 for a random setting":')
    udr_section(rows, out, udr)

    print('\n[5] RESULTS "Three runs all above 24 others ... 1 / C(27, 3) = 0.00034": exact')
    print("    permutation tests of Ada-GVAE, one-sided (mean difference):")
    for m in ("mig.mig", "dci.disentanglement", "factor_vae.factor_vae"):
        v = values(rows, m)
        ada = v.pop("ada-gvae__beta=1.0")
        best = max(v, key=lambda s: np.median(v[s]))
        pooled = permutation_test(ada, sum(v.values(), []), alternative="greater")
        top = permutation_test(ada, v[best], alternative="greater")
        print(
            f"    {NAMES[m]:20s} vs 24 pooled p = {p_fmt(pooled['p_value'])} (min "
            f"{pooled['min_p']:.5f}); vs {best} (3 v 3) p = {top['p_value']:.3f} "
            f"(min {top['min_p']:.2f})"
        )

    print('\n[6] RESULTS "The gap is not a compute artefact": benchmarks/quickstart_search.csv,')
    print("    β-TCVAE preset at batch 128 (128 images per step, as Ada-GVAE's 64 pairs):")
    with open(HERE / "quickstart_search.csv", newline="") as fh:
        for r in csv.DictReader(fh):
            if r["candidate"] == "s3k-b128":
                print(
                    f"    seed {r['seed']} step {r['step']:>4s} ({int(r['step']) * 128:,} images): "
                    f"MIG {float(r['mig']):.3f}, FactorVAE {float(r['factor_vae']):.3f}"
                )
    ada = values(rows, "mig.mig")["ada-gvae__beta=1.0"]
    print(f"    Ada-GVAE at 1,000 steps (128,000 images): MIG {min(ada):.3f}–{max(ada):.3f}")


if __name__ == "__main__":
    main()
