"""The examples run end to end at tiny size."""

import importlib.util
import runpy
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def load(name):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def test_own_model_example_trains_with_plain_svi(capsys):
    mig = load("own_model").main(steps=4, batch_size=8, num_eval=300)
    out = capsys.readouterr().out
    assert "step 4:" in out and "tc=" in out and "MIG" in out
    assert 0.0 <= mig <= 1.0


def test_train_preset_example_writes_run_metrics_and_report(tmp_path):
    report = load("train_preset").main("factor-vae", 4, tmp_path / "run", quick=True)
    assert report.exists() and (tmp_path / "run" / "metrics.json").exists()
    assert (tmp_path / "run" / "checkpoints" / "latest.json").exists()


def test_show_data_example_writes_pictures(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    runpy.run_path(str(EXAMPLES / "show_data.py"), run_name="__main__")
    assert len(list((tmp_path / "data_pictures").glob("*.png"))) == 3
