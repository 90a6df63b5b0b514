"""Typed, validated run configuration, read from TOML or JSON and overridable key by key.

A config has a top-level ``seed`` and ``preset`` and six tables::

    seed = 0
    [data]       name, path, correlated, correlation_sigma, pairs_k, size, channels, crop, labels
    [model]      latent_dim, architecture, likelihood, aggregation
    [objective]  name, and the ELBO's own keyword arguments (e.g. beta = 6.0)
    [optim]      lr, betas, schedule, warmup_steps, lr_floor, clip_norm
    [train]      steps, batch_size, log_every, checkpoint_every, keep_checkpoints, device,
                 precision, track
    [eval]       metrics, repeats, options (per-metric protocol overrides), num_points, seed

Unknown tables or keys and values of the wrong type or range are rejected with a message that
names the key, what was expected and the closest valid key.
"""

from __future__ import annotations

import copy
import dataclasses
import difflib
import math
import types
import typing
from dataclasses import dataclass, field
from typing import Any


class ConfigError(ValueError):
    """A configuration value, key or file is invalid; the message says how to fix it."""


_FLOAT32_MAX = 3.4028234663852886e38


def _positive(v: Any) -> bool:
    return v > 0


def _non_negative(v: Any) -> bool:
    return v >= 0


def _check(check, text: str, **kw: Any) -> Any:
    return field(metadata={"check": check, "text": text}, **kw)


@dataclass
class DataConfig:
    name: str = "dsprites"
    path: str | None = None
    #: two factor names whose values co-vary during training (evaluation stays independent)
    correlated: list[str] = field(default_factory=list)
    correlation_sigma: float = _check(
        _non_negative, ">= 0 (0: deterministic, inf: independent)", default=0.2
    )
    #: train on pairs that differ in this many factors (weak supervision): an int >= 1 or
    #: "random" (uniform in 1..K-1 per pair); None trains on single images
    pairs_k: int | str | None = _check(
        lambda v: v == "random" or (isinstance(v, int) and v >= 1), '>= 1 or "random"', default=None
    )
    #: your own images (name = "images", path = a folder or an array file; docs/data.rst): the
    #: square side, 1 | 3 | None (from the files) channels, the crop, a labels file (CSV)
    size: int = _check(lambda v: v in (32, 64, 128), "32, 64 or 128", default=64)
    channels: int | None = _check(lambda v: v in (1, 3), "1 or 3 (or unset)", default=None)
    crop: str = _check(lambda v: v in ("center", "none"), '"center" or "none"', default="center")
    labels: str | None = None


@dataclass
class ModelConfig:
    latent_dim: int = _check(_positive, "> 0", default=10)
    architecture: str = "locatello"
    likelihood: str = "bernoulli"
    #: pair model (weak supervision): "gvae" (Ada-GVAE) or "ml-vae" (Ada-ML-VAE); None: a VAE
    aggregation: str | None = None


@dataclass
class ObjectiveConfig:
    name: str = "beta-tcvae"
    #: keyword arguments of the objective's ELBO class, validated against its signature
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class OptimConfig:
    #: at most the largest float32: the parameters are float32 (1e38 is accepted, and diverges)
    lr: float = _check(lambda v: 0 < v <= _FLOAT32_MAX, "> 0 and <= 3.4e38", default=1e-4)
    betas: list[float] = field(default_factory=lambda: [0.9, 0.999])
    schedule: str = "constant"
    warmup_steps: int = _check(_non_negative, ">= 0", default=0)
    lr_floor: float = _check(lambda v: 0 <= v <= 1, "a fraction of lr in [0, 1]", default=0.0)
    #: global gradient-norm clipping over all parameters (None: no clipping)
    clip_norm: float | None = _check(_positive, "> 0", default=None)


TRACKERS = ("tensorboard", "mlflow")


def parse_track(spec: str) -> tuple[str, str | None]:
    """``"tensorboard[:DIR]"`` or ``"mlflow[:URI]"`` as ``(kind, DIR or URI or None)``."""
    kind, _, target = spec.partition(":")
    if kind not in TRACKERS or (spec.endswith(":") and not target):
        raise ConfigError(
            f'train.track: {spec!r} is not a tracker; use "tensorboard", "tensorboard:DIR", '
            '"mlflow" or "mlflow:URI" (e.g. mlflow:sqlite:///mlflow.db)'
        )
    return kind, target or None


def _trackers_ok(specs: list[str]) -> bool:
    kinds = [parse_track(s)[0] for s in specs]
    return len(set(kinds)) == len(kinds)


@dataclass
class TrainConfig:
    steps: int = _check(_positive, "> 0", default=300_000)
    batch_size: int = _check(lambda v: v >= 2, ">= 2", default=64)
    log_every: int = _check(_positive, "> 0", default=100)
    checkpoint_every: int = _check(_positive, "> 0", default=5_000)
    keep_checkpoints: int = _check(_positive, "> 0", default=3)
    #: images of the large-reference MI / TC / dwKL at each checkpoint (0: off)
    estimate_points: int = _check(lambda v: v == 0 or v >= 2, "0 (off) or >= 2", default=2000)
    #: "auto" (an accelerator when there is one) | "cpu" | "cuda" | "cuda:N" | "mps"
    device: str = "auto"
    #: "32" or "bf16" (networks in bfloat16; ELBO terms and TC estimators stay float32)
    precision: str = _check(lambda v: v in ("32", "bf16"), '"32" or "bf16"', default="32")
    #: experiment trackers: "tensorboard[:DIR]" (default DIR: RUN/tensorboard), "mlflow[:URI]"
    track: list[str] = _check(
        _trackers_ok,
        'trackers named once each ("tensorboard[:DIR]", "mlflow[:URI]")',
        default_factory=list,
    )


@dataclass
class EvalConfig:
    metrics: list[str] = field(
        default_factory=lambda: ["mig", "factor_vae", "dci", "sap", "modularity", "unsupervised"]
    )
    repeats: int = _check(_positive, "> 0", default=1)
    #: per-metric keyword overrides of the reference protocol, e.g. {factor_vae = {num_train = 1000}}
    options: dict[str, dict] = field(default_factory=dict)
    #: points used for the aggregate posterior in the report
    num_points: int = _check(_positive, "> 0", default=10_000)
    #: the seed of the evaluation draws (None: the run's own seed; a study sets it, docs/runs.rst)
    seed: int | None = _check(lambda v: 0 <= v < 2**32, "in [0, 2**32) or None", default=None)


@dataclass
class Config:
    seed: int = _check(lambda v: 0 <= v < 2**32, "in [0, 2**32) (NumPy's seed range)", default=0)
    preset: str | None = None
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    objective: ObjectiveConfig = field(default_factory=ObjectiveConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict; the objective's params are flattened into its table."""
        out = dataclasses.asdict(self)
        out["objective"] = {"name": self.objective.name, **self.objective.params}
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Config:
        """Build and validate a config from nested dicts (missing keys take defaults)."""
        return merge(cls(), data)


_SECTIONS = {f.name: f for f in dataclasses.fields(Config)}


def _suggest(key: str, options: typing.Iterable[str]) -> str:
    close = difflib.get_close_matches(key, list(options), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _type_ok(value: Any, annotation: Any) -> bool:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return any(_type_ok(value, a) for a in typing.get_args(annotation))
    if annotation is type(None):
        return value is None
    if annotation is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if annotation is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if origin is list:
        (item,) = typing.get_args(annotation)
        return isinstance(value, (list, tuple)) and all(_type_ok(v, item) for v in value)
    if origin is dict:
        return isinstance(value, dict)
    return isinstance(value, annotation)


def _set_field(obj: Any, name: str, value: Any, where: str) -> None:
    hints = typing.get_type_hints(type(obj))
    fields = {f.name: f for f in dataclasses.fields(obj)}
    if name not in fields:
        raise ConfigError(
            f"unknown key {where}{name}{_suggest(name, fields)}; valid keys: {sorted(fields)}"
        )
    if not _type_ok(value, hints[name]):
        ann = hints[name]
        expected = ann.__name__ if isinstance(ann, type) else str(ann).replace("typing.", "")
        raise ConfigError(f"{where}{name} must be {expected}, got {value!r}")
    if isinstance(value, float) and not math.isfinite(value) and name != "correlation_sigma":
        raise ConfigError(f"{where}{name} must be finite, got {value!r}")
    check = fields[name].metadata.get("check")
    if check is not None and value is not None and not check(value):
        raise ConfigError(f"{where}{name} must be {fields[name].metadata['text']}, got {value!r}")
    if hints[name] is float and value is not None:
        value = float(value)
    if isinstance(value, tuple):
        value = list(value)
    setattr(obj, name, value)


def merge(config: Config, data: dict[str, Any]) -> Config:
    """Return a copy of ``config`` with the values of the nested dict ``data`` applied."""
    out = copy.deepcopy(config)
    for key, value in data.items():
        section = _SECTIONS.get(key)
        if section is None:
            raise ConfigError(
                f"unknown config table or key {key!r}{_suggest(key, _SECTIONS)}; "
                f"valid: {sorted(_SECTIONS)}"
            )
        target = getattr(out, key)
        if not dataclasses.is_dataclass(target):
            _set_field(out, key, value, "")
            continue
        if not isinstance(value, dict):
            raise ConfigError(f"[{key}] must be a table of keys, got {value!r}")
        for sub, subvalue in value.items():
            if key == "objective" and sub not in ("name", "params"):
                out.objective.params[sub] = subvalue
            elif key == "objective" and sub == "name" and subvalue != out.objective.name:
                out.objective.name = str(subvalue)
                out.objective.params = {}  # another objective's params no longer apply
            else:
                _set_field(target, sub, subvalue, f"{key}.")
    if (out.data.pairs_k is None) != (out.model.aggregation is None):
        raise ConfigError(
            "weak supervision needs both data.pairs_k (pairs that differ in k factors) and "
            "model.aggregation ('gvae' or 'ml-vae'); set both, or neither for single images"
        )
    if len(out.optim.betas) != 2 or not all(0 <= b < 1 for b in out.optim.betas):
        raise ConfigError(f"optim.betas must be two numbers in [0, 1), got {out.optim.betas}")
    return out


def check_eval(config: Config) -> None:
    """Refuse ``[eval]`` metrics and protocol options that ``evaluate`` would refuse (called
    before a run or a study trains, so a typo is not found after training)."""
    from pyrodis.metrics.evaluate import check_options

    try:
        check_options(config.eval.metrics, config.eval.options)
    except ValueError as err:
        raise ConfigError(f"eval.metrics/eval.options: {err}") from None
