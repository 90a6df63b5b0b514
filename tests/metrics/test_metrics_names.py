"""One naming rule for the metrics (docs/metrics.rst, Names): a metric's module, its ``evaluate``
key and its function share one name, and the names of earlier releases are the same functions."""

import importlib
import subprocess
import sys

import pytest

import pyrodis.metrics

#: old name -> new name (also the name of the module that defines both)
OLD_NAMES = {
    "beta_vae_score": "beta_vae",
    "factor_vae_score": "factor_vae",
    "mutual_information_gap": "mig",
    "chen_mig": "mig_chen",
    "sap_score": "sap",
    "modularity_explicitness": "modularity",
    "unsupervised_scores": "unsupervised",
}


@pytest.mark.parametrize("old, new", sorted(OLD_NAMES.items()))
def test_an_old_metric_name_is_the_same_function_as_its_new_name(old, new):
    module = importlib.import_module(f"pyrodis.metrics.{new}")
    assert getattr(pyrodis.metrics, old) is getattr(pyrodis.metrics, new)
    assert getattr(module, old) is getattr(pyrodis.metrics, new)
    assert getattr(pyrodis.metrics, new).__name__ == new


def test_old_names_import_in_a_fresh_interpreter_as_users_wrote_them():
    names = ", ".join(sorted(OLD_NAMES))
    code = (
        f"from pyrodis.metrics import {names}\n"
        f"import pyrodis.metrics as m\n"
        f"assert all(callable(f) for f in ({names},))\n"
        f"assert m.chen_mig is m.mig_chen and m.sap_score is m.sap\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("key", sorted(pyrodis.metrics.METRICS))
def test_every_evaluate_key_names_a_module_and_a_public_function(key):
    importlib.import_module(f"pyrodis.metrics.{key}")  # the module of the same name
    assert key in pyrodis.metrics.__all__
    function = getattr(pyrodis.metrics, key)
    assert callable(function) and function.__name__ == key
    from_codes = f"{key}_from_codes"
    if hasattr(pyrodis.metrics, from_codes):  # the array form, where one exists, is public
        assert from_codes in pyrodis.metrics.__all__


def test_old_names_are_documented_aliases_not_public_names():
    from pathlib import Path

    api = (Path(__file__).resolve().parents[2] / "docs" / "api.rst").read_text()
    for old, new in OLD_NAMES.items():
        assert old not in pyrodis.metrics.__all__
        assert f"``pyrodis.metrics.{old}``" in api and f"pyrodis.metrics.{new}`" in api
