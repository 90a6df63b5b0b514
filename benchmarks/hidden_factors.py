"""Label-free model choice on your own images, checked against factors withheld on purpose.

Three steps (``studies/hidden-factors.toml`` between them)::

    python benchmarks/hidden_factors.py render     # dSprites → /tmp/pyrodis-hidden-factors/images
    pyrodis study run studies/hidden-factors.toml --out /tmp/pyrodis-hidden-factors/study
    pyrodis study report /tmp/pyrodis-hidden-factors/study
    python benchmarks/hidden_factors.py score      # prints the table of benchmarks/RESULTS.md

``render`` writes N procedural dSprites images as PNG files named ``img_00000.png`` ... into a
folder that holds nothing else, and the factors of each file into ``withheld_factors.csv`` beside
(not inside) it: the study trains on the folder exactly as it would on photographs.  ``score``
reads each finished run back (:func:`pyrodis.load_run`), maps the file names to the withheld
factors (:func:`pyrodis.data.read_labels`), computes the supervised metrics on each run's encoder,
and reports Spearman's ρ (with a bootstrap interval and a permutation p-value,
:func:`pyrodis.runs.study.correlation.spearman_intervals`) between each label-free signal (UDR,
active units, Gaussian total correlation of the mean codes) and each supervised metric over the
runs.  It writes ``scores.json`` into the study directory.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import warnings
from pathlib import Path

import numpy as np

ROOT = Path("/tmp/pyrodis-hidden-factors")
SUPERVISED = ("mig.mig", "dci.disentanglement", "sap.sap", "modularity.modularity")
LABEL_FREE = ("udr", "unsupervised.num_active_dims", "unsupervised.gaussian_total_correlation")
# Half the reference sample sizes (10,000 / 5,000), shared by the four metrics: ~1 min per run.
OPTIONS = {
    "mig": {"num_train": 5000},
    "dci": {"num_train": 5000, "num_test": 2500},
    "sap": {"num_train": 5000, "num_test": 2500},
    "modularity": {"num_train": 5000, "num_test": 2500},
}


def render(root: Path, num_images: int, seed: int) -> None:
    """dSprites images as PNG files, their factors in a CSV outside the folder."""
    from PIL import Image

    from pyrodis.data import DSprites

    data = DSprites()
    factors = np.asarray(data.sample_factors(num_images, np.random.default_rng(seed)))
    images = root / "images"
    images.mkdir(parents=True, exist_ok=True)
    rows = []
    for start in range(0, num_images, 500):
        batch = data.observations(factors[start : start + 500]).numpy()
        for i, image in enumerate(batch, start):
            name = f"img_{i:05d}.png"
            Image.fromarray((image[0] * 255).astype(np.uint8), mode="L").save(images / name)
            rows.append([name, *factors[i].tolist()])
    with open(root / "withheld_factors.csv", "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["file", *data.factor_names])
        writer.writerows(rows)
    print(f"wrote {num_images} images to {images} and their factors to {root}/withheld_factors.csv")


def _supervised(run, labels: Path, seed: int) -> dict[str, float]:
    from pyrodis.data import read_labels
    from pyrodis.metrics import evaluate

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # dSprites' constant colour column is dropped
        labelled = read_labels(labels, run.dataset, max_classes=40)
    metrics = [m.split(".")[0] for m in SUPERVISED]
    result = evaluate(
        run.vae.representation("mean"), labelled, metrics=metrics, seed=seed, options=OPTIONS
    )
    return {m: result[m.split(".")[0]][m.split(".")[1]] for m in SUPERVISED}


def _rows(study: Path, labels: Path) -> list[dict]:
    from pyrodis.runs.study.results_table import read_results
    from pyrodis.runs.trained_run import load_run

    udr = json.loads((study / "study.json").read_text())["udr"]["model_scores"]
    rows = []
    for row in read_results(study):
        if row["status"] != "done":
            continue
        run = load_run(study / "runs" / row["trial"])
        scores = _supervised(run, labels, seed=0)
        rows.append({**row, "udr": udr.get(row["trial"], math.nan), **scores})
        print(f"{row['trial']}: UDR {rows[-1]['udr']:.3f}, " + ", ".join(
            f"{k} {v:.3f}" for k, v in scores.items()))  # fmt: skip
    return rows


def score(root: Path) -> None:
    from pyrodis.runs.study.correlation import spearman_intervals

    study = root / "study"
    rows = _rows(study, root / "withheld_factors.csv")
    table = []
    for signal in LABEL_FREE:
        for metric in SUPERVISED:
            found = spearman_intervals(rows, [signal, metric], num_boot=2000, seed=0)
            rho = found["rho"][0][1]
            low, high = found["ci_low"][0][1], found["ci_high"][0][1]
            p = found["p_value"][0][1]
            table.append({"signal": signal, "metric": metric, "rho": rho, "ci_low": low,
                          "ci_high": high, "p_value": p, "n": found["n"]})  # fmt: skip
    print("\n| label-free signal | supervised metric | Spearman ρ | 95% bootstrap CI | p | runs |")
    print("|---|---|---|---|---|---|")
    for e in table:
        print(f"| {e['signal']} | {e['metric']} | {e['rho']:.2f} | "
              f"[{e['ci_low']:.2f}, {e['ci_high']:.2f}] | {e['p_value']:.3f} | {e['n']} |")  # fmt: skip
    keep = ("trial", "setting", "udr", *LABEL_FREE[1:], *SUPERVISED)
    runs = [{k: r.get(k) for k in keep} for r in rows]
    (study / "scores.json").write_text(json.dumps({"runs": runs, "spearman": table}, indent=2))
    print(f"\nwrote {study / 'scores.json'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("step", choices=["render", "score"])
    parser.add_argument("--root", type=Path, default=ROOT, help=f"default {ROOT}")
    parser.add_argument("--num-images", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if args.step == "render":
        render(args.root, args.num_images, args.seed)
    else:
        score(args.root)


if __name__ == "__main__":
    main()
