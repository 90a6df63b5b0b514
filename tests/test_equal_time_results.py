"""The equal-time comparison in benchmarks/RESULTS.md is the saved CSV, run at the saved plan."""

import csv
import json
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


NAMES = {
    "MSS, batch 64": "mss-b64",
    "MSS, batch 128": "mss-big",
    "bank K = 4,096, batch 64": "bank",
}


def _saved_rows() -> list[dict]:
    text = (BENCH / "tc_equal_time_20min.csv").read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


def _published_rows() -> list[list[str]]:
    text = (BENCH / "RESULTS.md").read_text(encoding="utf-8")
    table = text.split("| setting | seed | steps × batch |", 1)[1].split("\n\n", 1)[0]
    return [
        [cell.strip() for cell in line.strip("|").split("|")]
        for line in table.splitlines()[2:]  # past the rest of the header and the rule
    ]


def test_every_run_of_the_csv_is_in_results_with_its_figures():
    saved = {(r["setting"], int(r["seed"])): r for r in _saved_rows()}
    published = _published_rows()
    assert len(published) == len(saved) == 9  # 3 settings x 3 seeds
    for name, seed, steps_batch, _wall, mig, fvae, dci, nll in published:
        row = saved[(NAMES[name], int(seed))]
        assert steps_batch == f"{int(row['steps']):,} × {row['batch']}"
        assert mig == f"{float(row['mig']):.3f}" and fvae == f"{float(row['factor_vae']):.3f}"
        assert (
            dci == f"{float(row['dci_disentanglement']):.3f}"
            and nll == f"{float(row['recon_nll']):.1f}"
        )


def test_every_run_trained_the_planned_steps():
    plan = json.loads((BENCH / "tc_equal_time_20min_plan.json").read_text())
    assert plan["budget"] == {"minutes": 20.0, "clock": "wall", "threads": 2}
    for row in _saved_rows():
        assert int(row["steps"]) == plan["settings"][row["setting"]]["steps"]
