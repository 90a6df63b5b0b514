"""Configs from text: a TOML or JSON config file (:func:`read_config_file`) and a
``table.key=value`` override from the command line (:func:`parse_override`), as nested dicts that
:func:`pyrodis.runs.config.merge` validates (``docs/runs.rst``)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from pyrodis.runs.config import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = ["parse_override", "read_config_file"]


def parse_override(text: str) -> dict[str, Any]:
    """Parse ``table.key=value`` (value in TOML syntax, else a plain string) into a nested dict."""
    if "=" not in text:
        raise ConfigError(f"override {text!r} must look like table.key=value, e.g. optim.lr=3e-4")
    key, raw = (s.strip() for s in text.split("=", 1))
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw
    parts = key.split(".")
    if len(parts) > 2 or not all(parts):
        raise ConfigError(f"override key {key!r} must be 'key' or 'table.key'")
    return {parts[0]: value} if len(parts) == 1 else {parts[0]: {parts[1]: value}}


def read_config_file(path: str | Path) -> dict[str, Any]:
    """Read a TOML (``.toml``) or JSON (``.json``) config file into a nested dict."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file {path} does not exist")
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as err:
        raise ConfigError(
            f"config file {path} is not UTF-8 text ({err}); save it as UTF-8"
        ) from None
    try:
        data = json.loads(text) if path.suffix == ".json" else tomllib.loads(text)
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as err:
        raise ConfigError(f"cannot parse config file {path}: {err}") from err
    if not isinstance(data, dict):
        raise ConfigError(
            f"config file {path} must hold an object of tables at the top level (e.g. "
            f'{{"optim": {{"lr": 0.001}}}}), got a {type(data).__name__}'
        )
    return data
