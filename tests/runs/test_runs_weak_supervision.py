"""The weakly-supervised presets through the real command line: train, resume exactly,
evaluate and report (with the shared-vs-changed latent table)."""

import csv
import json

import pytest

from pyrodis.cli import main
from pyrodis.runs import preset_config
from pyrodis.runs.config import ConfigError, merge

TINY = [
    "--set", "train.batch_size=8", "--set", "train.log_every=1",
    "--set", "train.checkpoint_every=2", "--set", "model.latent_dim=4",
    "--set", "eval.num_points=128",
    "--set", "eval.options={mig={num_train=300}, unsupervised={num_train=300}}",
    "--no-progress",
]  # fmt: skip


def _log(run):
    with open(run / "log.csv", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.mark.parametrize("preset", ["ada-gvae", "ada-ml-vae"])
def test_weak_preset_trains_resumes_exactly_and_evaluates(tmp_path, preset):
    straight, split = tmp_path / "straight", tmp_path / "split"
    args = ["train", "--preset", preset, "--seed", "2", *TINY]
    assert main([*args, "--steps", "4", "--out", str(straight)]) == 0
    assert main([*args, "--steps", "2", "--out", str(split)]) == 0
    assert main(["train", "--resume", str(split), "--steps", "4", "--no-progress"]) == 0
    for a, b in zip(_log(straight), _log(split)):
        assert a["loss"] == b["loss"] and a["kl"] == b["kl"]
    assert main(["evaluate", str(split), "--metrics", "mig,unsupervised"]) == 0
    assert "mig" in json.loads((split / "metrics.json").read_text())
    if preset == "ada-gvae":
        assert main(["report", str(split)]) == 0
        report = json.loads((split / "report.json").read_text())
        table = report["weak_supervision"]
        assert table["factor_names"] == ["shape", "scale", "orientation", "posX", "posY"]
        assert len(table["matrix"]) == 4 and all(0 <= v <= 1 for r in table["matrix"] for v in r)
        assert "Shared vs changed latents" in (split / "report.html").read_text()


def test_weak_presets_set_pairs_and_aggregation_together():
    cfg = preset_config("ada-ml-vae")
    assert (cfg.data.pairs_k, cfg.model.aggregation, cfg.objective.name) == (
        1,
        "ml-vae",
        "beta-vae",
    )
    assert merge(cfg, {"data": {"pairs_k": "random"}}).data.pairs_k == "random"
    with pytest.raises(ConfigError, match="needs both data.pairs_k"):
        merge(preset_config("beta-vae"), {"data": {"pairs_k": 1}})
    with pytest.raises(ConfigError, match=r'pairs_k must be >= 1 or "random"'):
        merge(cfg, {"data": {"pairs_k": 0}})
