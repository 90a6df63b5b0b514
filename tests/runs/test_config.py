import json

import pytest

from pyrodis.runs.config import Config, ConfigError, merge
from pyrodis.runs.config_files import parse_override, read_config_file
from pyrodis.runs.presets import describe_presets, preset_config, preset_dict


def test_defaults_round_trip_through_json():
    cfg = Config.from_dict({"objective": {"name": "beta-vae", "beta": 8}, "train": {"steps": 10}})
    assert cfg.objective.params == {"beta": 8} and cfg.train.steps == 10
    again = Config.from_dict(json.loads(json.dumps(cfg.to_dict())))
    assert again == cfg


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"optim": {"lrr": 1e-3}}, "did you mean 'lr'"),
        ({"trian": {}}, "did you mean 'train'"),
        ({"train": {"steps": -1}}, r"train.steps must be > 0"),
        ({"train": {"batch_size": 1}}, r"batch_size must be >= 2"),
        ({"model": {"latent_dim": 2.5}}, "latent_dim must be int"),
        ({"optim": {"betas": [0.9]}}, "two numbers"),
        ({"optim": {"lr": float("nan")}}, "finite"),
        ({"data": "dsprites"}, "must be a table"),
        ({"seed": 10**23}, r"seed must be in \[0, 2\*\*32\)"),
        ({"seed": -1}, r"seed must be in \[0, 2\*\*32\)"),
        ({"optim": {"lr": 1e308}}, r"optim.lr must be > 0 and <= 3.4e38"),
        ({"optim": {"lr_floor": 5}}, r"optim.lr_floor must be a fraction of lr in \[0, 1\]"),
    ],
)
def test_invalid_values_are_rejected_with_the_key_named(bad, message):
    with pytest.raises(ConfigError, match=message):
        Config.from_dict(bad)


def test_overrides_parse_toml_values_and_strings():
    assert parse_override("optim.lr=3e-4") == {"optim": {"lr": 3e-4}}
    assert parse_override("data.name=shapes3d") == {"data": {"name": "shapes3d"}}
    assert parse_override("seed=3") == {"seed": 3}
    with pytest.raises(ConfigError, match="table.key=value"):
        parse_override("optim.lr")


def test_changing_objective_drops_the_old_objectives_params():
    cfg = merge(preset_config("beta-tcvae"), {"objective": {"name": "beta-vae", "beta": 2.0}})
    assert cfg.objective.params == {"beta": 2.0}


def test_config_files_toml_and_json(tmp_path):
    (tmp_path / "c.toml").write_text('seed = 4\n[objective]\nname = "beta-vae"\nbeta = 2.0\n')
    cfg = Config.from_dict(read_config_file(tmp_path / "c.toml"))
    assert cfg.seed == 4 and cfg.objective.params["beta"] == 2.0
    (tmp_path / "c.json").write_text(json.dumps({"train": {"steps": 7}}))
    assert Config.from_dict(read_config_file(tmp_path / "c.json")).train.steps == 7
    (tmp_path / "bad.toml").write_text("seed = = 1")
    with pytest.raises(ConfigError, match="cannot parse"):
        read_config_file(tmp_path / "bad.toml")
    with pytest.raises(ConfigError, match="does not exist"):
        read_config_file(tmp_path / "missing.toml")


def test_presets_carry_the_paper_settings():
    assert set(describe_presets()) >= {"beta-vae", "annealed-vae", "beta-tcvae", "factor-vae"}
    paper = preset_config("beta-tcvae", "paper")
    assert paper.objective.params["beta"] == 6.0 and paper.train.steps == 300_000
    assert paper.optim.lr == 1e-4 and paper.train.batch_size == 64
    annealed = preset_dict("annealed-vae", "paper")["objective"]
    assert (annealed["gamma"], annealed["capacity_max"]) == (1000.0, 25.0)
    assert preset_config("beta-vae").objective.params["beta"] == 4.0
    cpu = preset_config("beta-tcvae", "cpu")
    assert cpu.train.steps < paper.train.steps and cpu.objective == paper.objective
    # the quickstart's job trains longer than the other cpu presets, with the same network and data
    assert (cpu.train.steps, cpu.optim.warmup_steps, preset_config("beta-vae").train.steps) == (
        6_000,
        300,
        3_000,
    )
    assert (cpu.model, cpu.data, cpu.train.batch_size) == (paper.model, paper.data, 64)
    with pytest.raises(ConfigError, match="unknown preset"):
        preset_config("beta_tcvae")


def test_config_files_that_are_not_a_table_or_not_utf8_are_refused(tmp_path):
    (tmp_path / "list.json").write_text("[1, 2]")
    with pytest.raises(ConfigError, match="must hold an object of tables at the top level"):
        read_config_file(tmp_path / "list.json")
    (tmp_path / "latin1.toml").write_bytes(b'seed = "\xe9"')
    with pytest.raises(ConfigError, match="is not UTF-8 text"):
        read_config_file(tmp_path / "latin1.toml")
    assert Config.from_dict({"seed": 2**32 - 1, "optim": {"lr": 1e38}}).optim.lr == 1e38
