"""The training loop moved from pyrodis.inference to pyrodis.training: 0.2 code that imports the
old paths still runs for one release, with a DeprecationWarning that names the new path and points
at the user's line; the new paths, and pyrodis itself, raise none.

Each check runs a user's script in a fresh interpreter (an import warns once per process)."""

import json
import math
import subprocess
import sys
import textwrap

#: (a 0.2 statement, the name it binds, the object that name must be now); a module's alias is
#: checked before anything imports it (an import warns once per process)
OLD = [
    ("from pyrodis.inference import fit", "fit", "pyrodis.training.fit"),
    ("from pyrodis.inference import Trainer", "Trainer", "pyrodis.training.Trainer"),
    (
        "from pyrodis.inference import TrainingInterrupted",
        "TrainingInterrupted",
        "pyrodis.training.TrainingInterrupted",
    ),
    ("History = pyrodis.inference.History", "History", "pyrodis.training.History"),
    ("schedules = pyrodis.inference.schedules", "schedules", "pyrodis.training.schedules"),
    (
        "from pyrodis.inference.trainer import Trainer",
        "Trainer",
        "pyrodis.training.trainer.Trainer",
    ),
    (
        "from pyrodis.inference.schedules import make_schedule",
        "make_schedule",
        "pyrodis.training.schedules.make_schedule",
    ),
    (
        "from pyrodis.inference.history import History",
        "History",
        "pyrodis.training.history.History",
    ),
    (
        "from pyrodis.inference.interrupts import deferred_interrupts",
        "deferred_interrupts",
        "pyrodis.training.interrupts.deferred_interrupts",
    ),
    (
        "from pyrodis.inference.param_state import restore_params",
        "restore_params",
        "pyrodis.training.param_state.restore_params",
    ),
    (
        "from pyrodis.inference.optim_rates import scale_rates",
        "scale_rates",
        "pyrodis.training.optim_rates.scale_rates",
    ),
    (
        "from pyrodis.inference.model_args import call_args_for",
        "call_args_for",
        "pyrodis.training.model_args.call_args_for",
    ),
    ("from pyrodis.inference.fit import fit", "fit", "pyrodis.training.fit"),
]

#: a user's model/guide trained for a few steps by a given `fit`, returning its losses
TRAIN = """
def losses(fit):
    pyro.clear_param_store()
    pyro.set_rng_seed(0)
    x = torch.randn(64, 3)

    def model(x, idx):
        with pyro.plate("data", size=64, subsample=idx):
            z = pyro.sample("z", dist.Normal(x.new_zeros(len(x), 2), 1.0).to_event(1))
            w = pyro.param("w", torch.ones(2, 3))
            pyro.sample("x", dist.Normal(z @ w, 0.5).to_event(1), obs=x)

    def guide(x, idx):
        loc = pyro.param("loc", torch.zeros(64, 2))
        with pyro.plate("data", size=64, subsample=idx):
            pyro.sample("z", dist.Normal(loc[idx], 1.0).to_event(1))

    history = fit(
        model, guide, pyro.infer.Trace_ELBO(), x, steps=6, batch_size=16, lr=1e-2,
        log_every=1, progress=False,
    )
    return history.column("loss").tolist()
"""


def _run(tmp_path, body: str) -> tuple[dict, str]:
    """Run ``body`` as a user's script; returns the ``out`` it fills and the script's path."""
    script = tmp_path / "user_script.py"
    script.write_text(
        "import json, warnings\nimport pyro, pyro.distributions as dist, torch\n"
        "import pyrodis.inference, pyrodis.training\nout = {}\n"
        + textwrap.dedent(TRAIN)
        + textwrap.dedent(body)
        + "\nprint(json.dumps(out))\n"
    )
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, check=False, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1]), str(script)


def _old_path(statement: str) -> str:
    """The old module or name a statement uses: ``pyrodis.inference[.module][.Name]``."""
    words = statement.split()
    if words[0] != "from":
        return words[-1]
    return words[1] if words[1] != "pyrodis.inference" else f"{words[1]}.{words[3]}"


def _caught(label: str) -> str:
    return (
        f"out[{label!r}] = [[str(w.message), w.category.__name__, w.filename] for w in caught "
        "if 'pyrodis' in str(w.message)]\n"
    )


def test_old_paths_bind_the_moved_objects_and_warn_at_the_users_line(tmp_path):
    body = ""
    for i, (statement, bound, now) in enumerate(OLD):
        body += (
            "with warnings.catch_warnings(record=True) as caught:\n"
            "    warnings.simplefilter('always')\n"
            f"    {statement}\n" + _caught(str(i)) + f"out['same{i}'] = {bound} is {now}\n"
        )
    out, script = _run(tmp_path, body)
    for i, (statement, _, _) in enumerate(OLD):
        new = _old_path(statement).replace("pyrodis.inference", "pyrodis.training")
        caught = out[str(i)]
        assert caught, f"{statement!r} raised no DeprecationWarning"
        for message, category, filename in caught:
            assert category == "DeprecationWarning", (statement, category)
            assert new in message, (statement, message)
            assert filename == script, f"{statement!r} warns at {filename}, not the user's line"
        assert out[f"same{i}"], f"{statement!r} binds something other than the moved object"


def test_old_fit_trains_exactly_as_the_new_one_also_after_its_module_is_imported(tmp_path):
    """``pyrodis.inference.fit(...)`` of the 0.2 README stays the training function, even once
    the alias module of the same name is imported (which makes it the package's attribute)."""
    body = """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        out["old"] = losses(pyrodis.inference.fit)
        import pyrodis.inference.fit
        from pyrodis.inference.fit import fit as old_fit_function
        out["module"] = losses(pyrodis.inference.fit)
        out["function"] = losses(old_fit_function)
    out["new"] = losses(pyrodis.training.fit)
    """
    out, _ = _run(tmp_path, body)
    assert len(out["new"]) == 6 and all(math.isfinite(v) for v in out["new"])
    assert out["old"] == out["module"] == out["function"] == out["new"]


def test_new_paths_and_the_package_itself_raise_no_deprecation_warning(tmp_path):
    """Every pyrodis module except the aliases imports without a pyrodis DeprecationWarning
    (the package uses only the new paths), and training from the new ones warns neither."""
    body = """
    import pkgutil, importlib
    aliases = {"pyrodis.inference." + n for n in (
        "fit", "history", "interrupts", "model_args", "optim_rates", "param_state", "schedules",
        "trainer")}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        import pyrodis
        names = [m.name for m in pkgutil.walk_packages(pyrodis.__path__, "pyrodis.")]
        for name in sorted(n for n in set(names) - aliases if not n.endswith("__main__")):
            importlib.import_module(name)
        from pyrodis.training import History, Trainer, TrainingInterrupted, fit, make_schedule
        from pyrodis.inference import TCELBO, BetaELBO
        out["losses"] = losses(fit)
    out["modules"] = len(names)
    """ + _caught("new")
    out, _ = _run(tmp_path, body)
    assert out["modules"] > 50, "expected to import every module of the package"
    assert len(out["losses"]) == 6
    assert out["new"] == [], f"the new paths warn: {out['new']}"
