"""Study files: a grid of objectives × hyperparameters × seeds, read and validated up front.

A study file is TOML (``docs/runs.rst``, Studies)::

    [study]
    name = "tc-vs-beta"
    seeds = [0, 1, 2]
    budget = "cpu"                     # the presets' budget
    eval_seed = "per-run"              # or an integer: every run scored on the same draws
    track = "mlflow"                   # optional: every trial an MLflow run ("mlflow:URI")
    [base]                             # dotted run-config keys applied to every trial
    "train.steps" = 1500
    [[grid]]                           # one entry per objective: a preset and values to cross
    preset = "beta-vae"
    "objective.beta" = [1.0, 4.0]

A trial's config is, lowest first: the preset at the study's budget, ``[base]``, the grid entry's
values, the seed. Every trial's config is validated by :func:`expand_trials` before anything
runs — keys, types and ranges, the objective's parameters, the schedule, the metric names, and
the dataset and network it builds — and an error names the grid entry and the key. What only
training can show (a diverging learning rate, a killed worker) fails that trial alone.
"""

from __future__ import annotations

import itertools
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pyrodis.metrics import METRICS
from pyrodis.runs.build import build_dataset, build_elbo, build_model, build_schedule
from pyrodis.runs.config import Config, ConfigError, merge, read_config_file
from pyrodis.runs.presets import BUDGETS, preset_dict

__all__ = ["StudyError", "StudySpec", "Trial", "expand_trials", "read_study"]


class StudyError(ConfigError):
    """A study file or study directory is invalid; the message says where and how to fix it."""


@dataclass
class GridEntry:
    """One ``[[grid]]`` table: a preset and, per dotted key, the values to cross."""

    preset: str
    values: dict[str, list[Any]]


@dataclass
class StudySpec:
    """A parsed study file (see the module docstring)."""

    name: str
    seeds: list[int]
    budget: str = "cpu"
    #: "per-run" (each run evaluated with its training seed) or one seed for every run
    eval_seed: str | int = "per-run"
    base: dict[str, Any] = field(default_factory=dict)
    grid: list[GridEntry] = field(default_factory=list)
    #: "mlflow" or "mlflow:URI": the study as an MLflow experiment (pyrodis.runs.study.tracking)
    track: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The study as the nested dict of its TOML file (round-trips through :func:`read_study`)."""
        study = {"name": self.name, "seeds": list(self.seeds), "budget": self.budget}
        study["eval_seed"] = self.eval_seed
        if self.track is not None:
            study["track"] = self.track
        grid = [{"preset": g.preset, **g.values} for g in self.grid]
        return {"study": study, "base": dict(self.base), "grid": grid}

    @property
    def varied_keys(self) -> list[str]:
        """Every dotted key some grid entry crosses, in first-seen order."""
        keys: list[str] = []
        for entry in self.grid:
            keys += [k for k in entry.values if k not in keys]
        return keys


@dataclass
class Trial:
    """One run of a study: preset, the grid values it takes, seed, and its validated config."""

    trial_id: str
    preset: str
    params: dict[str, Any]
    seed: int
    config: Config

    @property
    def setting(self) -> str:
        """The trial's id without its seed: trials of one setting differ only by seed."""
        return self.trial_id.rsplit("__seed", 1)[0]


def _nested(dotted: dict[str, Any], where: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in dotted.items():
        parts = key.split(".")
        if key == "eval.seed":
            raise StudyError(
                f"{where}: 'eval.seed' is the study's evaluation protocol: set [study] eval_seed "
                '= "per-run" (each run its own training seed) or an integer (one for every run)'
            )
        if key in ("seed", "preset") or len(parts) > 2 or not all(parts):
            raise StudyError(
                f"{where}: key {key!r} must be a dotted run-config key such as 'objective.beta' "
                "(seeds go in [study] seeds, the preset in the grid entry's preset)"
            )
        if len(parts) == 1:
            out[key] = value
        else:
            out.setdefault(parts[0], {})[parts[1]] = value
    return out


def _parse_grid(raw: Any) -> list[GridEntry]:
    if not isinstance(raw, list) or not raw:
        raise StudyError("a study needs at least one [[grid]] entry with a preset")
    grid = []
    for i, entry in enumerate(raw, 1):
        where = f"[[grid]] entry {i}"
        if not isinstance(entry, dict) or not isinstance(entry.get("preset"), str):
            raise StudyError(f"{where} needs preset = NAME (see `pyrodis presets`)")
        values = {k: v for k, v in entry.items() if k != "preset"}
        for key, value in values.items():
            if not isinstance(value, list) or not value:
                raise StudyError(
                    f"{where} ({entry['preset']}): {key!r} must be a non-empty list of values "
                    f"to cross, e.g. {key!r} = [{value!r}]"
                )
        grid.append(GridEntry(entry["preset"], values))
    return grid


def parse_study(data: dict[str, Any]) -> StudySpec:
    """A :class:`StudySpec` from the nested dict of a study file (structure checked)."""
    unknown = sorted(set(data) - {"study", "base", "grid"})
    if unknown:
        raise StudyError(
            f"unknown study tables {unknown}; a study file has [study] [base] [[grid]]"
        )
    head = data.get("study", {})
    name, seeds = head.get("name"), head.get("seeds", [0])
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", name):
        raise StudyError(
            f"[study] name must be a short identifier (letters, digits, -_.), got {name!r}"
        )
    if (
        not isinstance(seeds, list)
        or not seeds
        or not all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in seeds)
    ):
        raise StudyError(f"[study] seeds must be a list of integers >= 0, got {seeds!r}")
    if len(set(seeds)) != len(seeds):
        raise StudyError(f"[study] seeds repeats a seed: {seeds}")
    budget = head.get("budget", "cpu")
    if budget not in BUDGETS:
        raise StudyError(f"[study] budget must be one of {list(BUDGETS)}, got {budget!r}")
    extra = sorted(set(head) - {"name", "seeds", "budget", "eval_seed", "track"})
    if extra:
        raise StudyError(
            f"unknown [study] keys {extra}; valid: name, seeds, budget, eval_seed, track"
        )
    eval_seed = _eval_seed(head.get("eval_seed", "per-run"))
    track = head.get("track")
    if track is not None and (
        not isinstance(track, str) or track.partition(":")[0] != "mlflow" or track == "mlflow:"
    ):
        raise StudyError(f'[study] track must be "mlflow" or "mlflow:URI", got {track!r}')
    base = data.get("base", {})
    _nested(base, "[base]")
    grid = _parse_grid(data.get("grid"))
    return StudySpec(name, list(seeds), budget, eval_seed, dict(base), grid, track)


def _eval_seed(value: Any) -> str | int:
    """``"per-run"`` or a seed in [0, 2**32) (``docs/runs.rst``, the evaluation protocol)."""
    if value == "per-run" or (
        isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**32
    ):
        return value
    raise StudyError(
        f'[study] eval_seed must be "per-run" (each run scored on draws of its own training '
        f"seed) or an integer in [0, 2**32) (every run scored on the same draws), got {value!r}"
    )


def read_study(source: str | Path | dict[str, Any] | StudySpec) -> StudySpec:
    """Read a study from a TOML/JSON file, a nested dict or a :class:`StudySpec`."""
    if isinstance(source, StudySpec):
        return source
    if isinstance(source, dict):
        return parse_study(source)
    try:
        return parse_study(read_config_file(source))
    except StudyError:
        raise
    except ConfigError as err:
        raise StudyError(f"cannot read study file {source}: {err}") from err


def _slug(value: Any) -> str:
    text = value if isinstance(value, str) else repr(value)
    return re.sub(r"[^A-Za-z0-9_.+-]+", "-", text).strip("-") or "x"


def trial_id(preset: str, params: dict[str, Any], seed: int) -> str:
    """A readable, stable directory name: ``preset__key=value...__seedN``."""
    parts = [preset] + [f"{k.split('.')[-1]}={_slug(v)}" for k, v in params.items()]
    return "__".join(parts) + f"__seed{seed}"


def _config(spec: StudySpec, entry: GridEntry, params: dict[str, Any], seed: int, i: int) -> Config:
    where = f"[[grid]] entry {i} ({entry.preset})"
    try:
        config = merge(Config(), preset_dict(entry.preset, spec.budget))
    except ConfigError as err:
        raise StudyError(f"{where}: {err}") from err
    try:
        config = merge(config, _nested(spec.base, "[base]"))
    except ConfigError as err:
        raise StudyError(f"{where}: [base]: {err}") from err
    for key, value in params.items():
        try:
            config = merge(config, _nested({key: value}, where))
            build_elbo(config)  # the objective's own checks (names and ranges of its parameters)
            _check_eval(config)
        except StudyError:
            raise
        except ConfigError as err:
            raise StudyError(f"{where}, key {key!r} = {value!r}: {err}") from err
    try:
        build_elbo(config)
        build_schedule(config)
        _check_eval(config)
        config = merge(config, {"seed": seed})
        if spec.eval_seed != "per-run":
            config = merge(config, {"eval": {"seed": spec.eval_seed}})
        return config
    except ConfigError as err:
        raise StudyError(f"{where}: {err}") from err


def _check_eval(config: Config) -> None:
    unknown = [m for m in [*config.eval.metrics, *config.eval.options] if m not in METRICS]
    if unknown:
        raise ConfigError(
            f"eval.metrics/eval.options: unknown metrics {unknown}; choose from {sorted(METRICS)}"
        )


def _check_build(trial: Trial, i: int, built: set[str]) -> None:
    """Build the dataset and network of each distinct [data]+[model] once (milliseconds for the
    procedural datasets): a wrong factor name or architecture is refused before anything runs."""
    tables = trial.config.to_dict()
    key = json.dumps([tables["data"], tables["model"]], sort_keys=True, default=str)
    if key in built:
        return
    try:
        build_model(trial.config, build_dataset(trial.config, training=True))
    except ConfigError as err:
        raise StudyError(f"[[grid]] entry {i} ({trial.preset}): {err}") from err
    built.add(key)


def expand_trials(spec: StudySpec) -> list[Trial]:
    """Every trial of the study (grid entries × crossed values × seeds), each config validated.

    Raises :class:`StudyError` naming the grid entry and key of the first invalid trial, or when
    two trials would share a run directory.
    """
    trials: list[Trial] = []
    built: set[str] = set()
    for i, entry in enumerate(spec.grid, 1):
        keys = list(entry.values)
        for combo in itertools.product(*(entry.values[k] for k in keys)):
            params = dict(zip(keys, combo))
            for seed in spec.seeds:
                config = _config(spec, entry, params, seed, i)
                trial = Trial(
                    trial_id(entry.preset, params, seed), entry.preset, params, seed, config
                )
                _check_build(trial, i, built)
                trials.append(trial)
    repeated = sorted(k for k, n in Counter(t.trial_id for t in trials).items() if n > 1)
    if repeated:
        raise StudyError(f"trials share the run directories {repeated}: remove the repeats")
    return trials
