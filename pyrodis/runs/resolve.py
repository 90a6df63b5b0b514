"""The precedence of preset, config file, flags and ``--set``: one function, callable from Python.

``pyrodis train`` calls :func:`resolve_config` with its arguments; a script can call it the same
way. Lowest first: the preset (at its budget), the config file, the direct settings (dataset,
data file, your own images and their labels, seed, device), then each ``table.key=value`` override in order (``docs/runs.rst``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pyrodis.runs.build import OWN_IMAGES
from pyrodis.runs.config import (
    Config,
    ConfigError,
    check_eval,
    merge,
)
from pyrodis.runs.config_files import parse_override, read_config_file
from pyrodis.runs.presets import preset_dict

__all__ = ["resolve_config"]


def resolve_config(
    *,
    preset: str | None = None,
    budget: str = "cpu",
    config_file: str | Path | None = None,
    dataset: str | None = None,
    data_path: str | Path | None = None,
    images: str | Path | None = None,
    labels: str | Path | None = None,
    seed: int | None = None,
    device: str | None = None,
    overrides: Sequence[str] = (),
) -> Config:
    """The validated run config of a preset, a config file, direct settings and overrides.

    Raises :class:`~pyrodis.runs.config.ConfigError` when nothing says what to train, or when
    any layer is invalid (the message names the key).

    ``images`` (``--data PATH``) is your own folder of images or array file: it sets
    ``data.name = "images"`` and ``data.path``; ``labels`` (``--labels FILE.csv``) sets
    ``data.labels``. ``dataset``/``data_path`` name a dataset with known factors and its
    official files instead.
    """
    if images and (dataset or data_path):
        raise ConfigError(
            "--data PATH trains on your own images; --dataset/--data-path name a dataset with "
            "known factors (and its official files). Give one or the other"
        )
    if not preset and not config_file and not overrides:
        raise ConfigError("say what to train: --preset NAME and/or --config FILE (see --help)")
    config = Config()
    if preset:
        config = merge(config, preset_dict(preset, budget))
    if config_file:
        config = merge(config, read_config_file(config_file))
    direct: dict[str, Any] = {}
    if dataset:
        direct["data"] = {"name": dataset}
    if data_path:
        direct.setdefault("data", {})["path"] = str(data_path)
    if images:
        # absolute: evaluate and report find the images from any working directory
        direct["data"] = {"name": OWN_IMAGES, "path": str(Path(images).absolute())}
    if labels:
        direct.setdefault("data", {})["labels"] = str(Path(labels).absolute())
    if seed is not None:
        direct["seed"] = seed
    if device is not None:
        direct["train"] = {"device": str(device)}
    config = merge(config, direct)
    for text in overrides:
        config = merge(config, parse_override(text))
    check_eval(config)
    return config
