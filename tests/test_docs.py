"""The docs and the package agree: every ``docs/NAME.rst`` named in pyrodis exists, and every
package the API reference documents declares its public names (``__all__``). That nothing cites
files outside the package is tests/test_architecture.py's job."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCES = sorted((ROOT / "pyrodis").rglob("*.py"))
CITATION = re.compile(r"docs/([A-Za-z_]+)\.rst")


def test_cited_docs_pages_exist():
    cited = {
        (path.relative_to(ROOT).as_posix(), page)
        for path in SOURCES
        for page in CITATION.findall(path.read_text(encoding="utf-8"))
    }
    assert cited, "expected docstrings to cite docs/*.rst pages"
    missing = sorted(
        (src, page) for src, page in cited if not (ROOT / "docs" / f"{page}.rst").is_file()
    )
    assert not missing, f"docstrings cite docs pages that do not exist: {missing}"


def test_api_reference_packages_declare_their_public_names():
    """docs/api.rst documents each package through its ``__all__``: it must exist and resolve."""
    import importlib

    packages = re.findall(
        r"^\.\. automodule:: (\S+)", (ROOT / "docs" / "api.rst").read_text(), re.M
    )
    assert packages, "docs/api.rst documents no package"
    for name in packages:
        module = importlib.import_module(name)
        public = getattr(module, "__all__", None)
        assert public, f"{name} has no __all__, so docs/api.rst would document none of its API"
        missing = [item for item in public if not hasattr(module, item)]
        assert not missing, f"{name}.__all__ names what the package does not define: {missing}"
