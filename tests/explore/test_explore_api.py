"""``pyrodis.explore(...)`` from a script or notebook is the explorer function."""

import subprocess
import sys

import pytest

pytest.importorskip("starlette", reason="the explorer needs the explore extra (starlette)")


def test_pyrodis_explore_is_callable_after_a_bare_import(tmp_path):
    script = (
        "import pyrodis\n"
        "from pyrodis.explore import ExploreError, explore\n"
        "assert pyrodis.explore.explore is explore\n"
        "try:\n"
        f"    pyrodis.explore({str(tmp_path / 'no-such-run')!r}, open_browser=False)\n"
        "except (ExploreError, FileNotFoundError, ValueError) as err:\n"
        "    print(type(err).__name__, err)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "no-such-run" in done.stdout
