"""Names a package exports on first use (PEP 562), so that importing the package does not load
what it never calls (``pyrodis train`` does not need the report stack, a study file not Ray)."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(
    package: str, homes: dict[str, str], submodules: bool = False
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The module ``__getattr__`` and ``__dir__`` of ``package``: name ``n`` is imported from
    ``package.homes[n]`` when first asked for, then kept in the package's namespace. With
    ``submodules``, any other name is tried as a submodule (``pyrodis.runs.train``)."""

    def __getattr__(name: str) -> Any:
        if name not in homes:
            if submodules:
                try:
                    return importlib.import_module(f"{package}.{name}")
                except ModuleNotFoundError as missing:
                    if missing.name != f"{package}.{name}":
                        raise
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{homes[name]}"), name)
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | set(homes))

    return __getattr__, __dir__
