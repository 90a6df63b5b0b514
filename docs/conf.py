"""Sphinx configuration of the pyrodis documentation.

Build (warnings are errors, as in CI)::

    python3 -m sphinx -W --keep-going -q -b html docs docs/_build/html
"""

import os
import sys

# Document the package of this checkout, whatever is installed.
sys.path.insert(0, os.path.abspath(".."))
import pyrodis  # noqa: E402
from pyrodis.openmp import set_passive_wait  # noqa: E402

set_passive_wait()  # before autodoc imports torch

project = "pyrodis"
author = "the pyrodis authors"
copyright = "the pyrodis authors, Apache-2.0"
release = pyrodis.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
]

# Google-style docstrings ("Args:", "Returns:", "Attributes:"), as Pyro writes them.
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_use_rtype = False

autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_typehints_format = "short"
autodoc_default_options = {"show-inheritance": True}
# Heavy optional dependencies are not needed to read the docstrings.
autodoc_mock_imports = ["h5py", "ray"]

templates_path: list[str] = []
exclude_patterns = ["_build"]
html_theme = "alabaster"
html_static_path: list[str] = []
html_theme_options = {"description": "Disentangled representations with Pyro"}
