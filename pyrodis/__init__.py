"""pyrodis: learning and evaluating disentangled representations with Pyro."""

from pyrodis.version import __version__

__all__ = ["__version__", "explore", "load_run"]


def load_run(path):  # noqa: ANN001, ANN201 - re-exported lazily to keep `import pyrodis` light
    """Load a trained run directory; see :func:`pyrodis.runs.load_run`."""
    from pyrodis.runs import load_run as _load_run

    return _load_run(path)


def __getattr__(name: str):  # noqa: ANN202 - PEP 562
    if name == "explore":  # pyrodis.explore(run_or_model, ...): the explorer (docs/explore.rst)
        import importlib

        return importlib.import_module("pyrodis.explore")
    raise AttributeError(f"module 'pyrodis' has no attribute {name!r}")
