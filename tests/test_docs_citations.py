"""The package cites only its own docs: every ``docs/NAME.rst`` named in pyrodis exists, and no
docstring or comment points at files a user of the package does not have."""

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


def test_no_citation_of_files_outside_the_package():
    offending = [
        f"{path.relative_to(ROOT).as_posix()}:{number}: {line.strip()}"
        for path in SOURCES
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r"REFERENCE|DESIGN\.md|shared/", line)
    ]
    assert not offending, "cite a docs/*.rst page instead:\n" + "\n".join(offending)
