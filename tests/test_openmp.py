"""OMP_WAIT_POLICY is set in one place, before torch loads its OpenMP runtime (pyrodis.openmp)."""

import os
import subprocess
import sys

from pyrodis.openmp import set_passive_wait

#: runs ``pyrodis ARGS`` as ``python -m pyrodis`` does and prints OMP_WAIT_POLICY as it was at the
#: moment torch was first imported
PROBE = """
import os, runpy, sys
seen = []
class Probe:
    def find_spec(self, name, path=None, target=None):
        if name == "torch" and not seen:
            seen.append(os.environ.get("OMP_WAIT_POLICY"))
        return None
sys.meta_path.insert(0, Probe())
sys.argv = ["pyrodis", *sys.argv[1:]]
try:
    runpy.run_module("pyrodis", run_name="__main__")
except SystemExit:
    pass
print(seen[0] if seen else "torch not imported")
"""


def _environment(**changes):
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    return {**env, **changes}


def test_the_cli_sets_the_policy_before_torch_is_imported():
    out = subprocess.run(
        [sys.executable, "-c", PROBE, "datasets"],
        env=_environment(),
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.splitlines()[-1] == "PASSIVE"


def test_a_policy_the_user_chose_is_kept():
    out = subprocess.run(
        [sys.executable, "-c", PROBE, "datasets"],
        env=_environment(OMP_WAIT_POLICY="ACTIVE"),
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.splitlines()[-1] == "ACTIVE"
    assert set_passive_wait({"OMP_WAIT_POLICY": "ACTIVE"}) == {"OMP_WAIT_POLICY": "ACTIVE"}


def test_a_child_environment_gets_the_variable_and_nothing_else():
    assert set_passive_wait({}) == {"OMP_WAIT_POLICY": "PASSIVE"}
    child = {"PATH": "/bin"}
    assert set_passive_wait(child) is child and child["OMP_WAIT_POLICY"] == "PASSIVE"


def test_importing_the_helper_loads_no_openmp_runtime():
    code = "import sys, pyrodis.openmp; sys.exit('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], env=_environment()).returncode == 0
