"""Studies on Ray: a tiny grid end to end, skipping, resuming, fault isolation, the report."""

import copy
import csv
import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from pyrodis.cli import main
from pyrodis.runs.study.file import StudyError, expand_trials, read_study

ray = pytest.importorskip("ray", reason="studies need the study extra: pip install '.[study]'")

from pyrodis.runs.study import run_study  # noqa: E402
from pyrodis.runs.study.report import SECTIONS, write_study_report  # noqa: E402

ROOT = Path(__file__).resolve().parents[3]

TINY = {
    "study": {"name": "tiny", "seeds": [0, 1], "budget": "cpu"},
    "base": {
        "model.architecture": "burgess",
        "model.latent_dim": 3,
        "train.steps": 4,
        "train.batch_size": 8,
        "train.log_every": 1,
        "train.checkpoint_every": 2,
        "optim.warmup_steps": 0,
        "eval.metrics": ["mig", "unsupervised"],
        "eval.options": {"mig": {"num_train": 200}, "unsupervised": {"num_train": 200}},
        "eval.num_points": 128,
    },
    "grid": [
        {"preset": "beta-vae", "objective.beta": [1.0, 4.0]},
        {"preset": "beta-tcvae", "objective.beta": [2.0, 6.0]},
    ],
}
#: columns that legitimately differ between two executions of the same trial
TIMING = {"wall_s", "final.images_per_s", "failures", "error"}


def spec(**base):
    out = copy.deepcopy(TINY)
    out["base"].update(base)
    return out


@pytest.fixture(scope="module")
def cluster():
    """One local Ray (2 CPUs) for the whole file; run_study uses a session it finds."""
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield ray.get_runtime_context().gcs_address
    ray.shutdown()


@pytest.fixture(scope="module")
def study(cluster, tmp_path_factory):
    out = tmp_path_factory.mktemp("study")
    rows = run_study(TINY, out, max_concurrent=2, progress=False)
    return out, rows


def read_csv(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def snapshot(root: Path) -> dict:
    return {
        str(p.relative_to(root)): (p.stat().st_mtime_ns, hashlib.sha256(p.read_bytes()).hexdigest())
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def comparable(row):
    return {k: v for k, v in row.items() if k not in TIMING}


def test_invalid_config_is_refused_before_anything_runs(tmp_path):
    bad = spec()
    bad["grid"][1]["objective.betta"] = [1.0]
    with pytest.raises(StudyError, match=r"entry 2 \(beta-tcvae\).*'objective.betta'"):
        run_study(bad, tmp_path / "s", progress=False)
    assert not (tmp_path / "s").exists()
    bad = spec(**{"train.steps": -3})
    with pytest.raises(StudyError, match=r"\[base\].*train.steps"):
        expand_trials(read_study(bad))


@pytest.mark.parametrize(
    "entry, message",
    [
        ({"model.architecture": ["burgess", "resnet"]}, r"entry 1 \(beta-vae\).*\[model\]"),
        ({"data.correlated": [["scale", "colour"]]}, r"entry 1 \(beta-vae\).*correlated"),
        ({"eval.metrics": [["mig", "migg"]]}, r"entry 1 \(beta-vae\).*'eval.metrics'.*migg"),
        (
            {"eval.options": [{"dci": {"num_trian": 100}}]},
            r"entry 1 \(beta-vae\).*'eval.options'.*unknown dci option 'num_trian'.*num_train",
        ),
        ({"eval.options": [{"sap": 3}]}, r"entry 1 \(beta-vae\).*sap must be a table of keywords"),
        ({"objective.beta": [4.0, -1.0]}, r"entry 1 \(beta-vae\), key 'objective.beta' = -1.0"),
    ],
)
def test_what_a_trial_would_build_is_checked_up_front(entry, message):
    bad = spec()
    bad["grid"] = [{"preset": "beta-vae", **entry}]
    with pytest.raises(StudyError, match=message):
        expand_trials(read_study(bad))


def test_trials_cross_grid_values_and_seeds():
    trials = expand_trials(read_study(TINY))
    assert len(trials) == 8
    t = trials[-1]
    assert t.trial_id == "beta-tcvae__beta=6.0__seed1"
    assert t.config.objective.params["beta"] == 6.0 and t.config.seed == 1
    assert t.config.train.steps == 4 and t.config.model.architecture == "burgess"
    assert t.config.optim.schedule == "cosine"  # from the preset's cpu budget


def test_study_runs_to_a_full_results_table(study):
    out, rows = study
    table = read_csv(out / "results.csv")
    assert len(table) == 8 and [r["trial"] for r in table] == [r["trial"] for r in rows]
    assert {r["status"] for r in table} == {"done"}
    assert sorted({float(r["objective.beta"]) for r in table}) == [1.0, 2.0, 4.0, 6.0]
    for r in table:
        assert int(r["steps"]) == 4 and float(r["wall_s"]) > 0
        assert r["final.loss"] and 0 <= float(r["mig.mig"]) <= 1
        assert float(r["unsupervised.num_active_dims"]) >= 0
        metrics = json.loads((out / "runs" / r["trial"] / "metrics.json").read_text())
        assert float(r["mig.mig"]) == pytest.approx(metrics["mig"]["mig"]["value"])
        assert int(r["eval_seed"]) == int(r["seed"]) == metrics["seed"]  # eval_seed: per-run
    assert (out / "results.parquet").exists() or pytest.importorskip("pyarrow")


def test_second_run_skips_finished_trials_without_touching_them(study, tmp_path):
    out, rows = study
    before = snapshot(out / "runs"), snapshot(out / "trials"), read_csv(out / "results.csv")
    again = run_study(TINY, out, max_concurrent=2, progress=False)
    assert (snapshot(out / "runs"), snapshot(out / "trials")) == before[:2]
    assert again == rows
    (tmp_path / "tiny.json").write_text(json.dumps(TINY))  # the command line does the same
    cmd = ["study", "run", str(tmp_path / "tiny.json"), "--out", str(out), "--max-concurrent", "2"]
    assert main(cmd) == 0
    after = snapshot(out / "runs"), snapshot(out / "trials"), read_csv(out / "results.csv")
    assert after == before[:2] + (before[2],)


def test_a_diverging_trial_fails_alone_with_its_error(cluster, tmp_path):
    bad = spec()
    bad["study"]["seeds"] = [0]
    bad["grid"] = [{"preset": "beta-vae", "optim.lr": [1e-3, 1e12]}]
    rows = run_study(bad, tmp_path / "s", max_concurrent=2, progress=False)
    by_lr = {r["optim.lr"]: r for r in read_csv(tmp_path / "s" / "results.csv")}
    assert by_lr["0.001"]["status"] == "done" and by_lr["0.001"]["mig.mig"]
    failed = by_lr["1000000000000.0"]
    assert failed["status"] == "failed" and "diverged" in failed["error"]
    assert failed["mig.mig"] == "" and len(rows) == 2


@pytest.mark.slow
def test_worker_killed_mid_trial_is_retried_and_resumes(cluster, tmp_path):
    one = spec(**{"train.steps": 30})
    one["study"]["seeds"] = [0]
    one["grid"] = [{"preset": "beta-vae", "objective.beta": [4.0]}]
    out = tmp_path / "s"
    (tid,) = [t.trial_id for t in expand_trials(read_study(one))]
    killed = []

    def kill_when_checkpointed():
        record, ckpt = out / "trials" / f"{tid}.json", out / "runs" / tid / "checkpoints"
        while not killed:
            rec = json.loads(record.read_text()) if record.exists() else {}
            if rec.get("status") == "running" and ckpt.exists() and any(ckpt.glob("*.pt")):
                os.kill(rec["pid"], signal.SIGKILL)
                killed.append(rec["pid"])
            time.sleep(0.2)

    threading.Thread(target=kill_when_checkpointed, daemon=True).start()
    (row,) = run_study(one, out, progress=False)
    assert killed and row["status"] == "done" and row["failures"] == 1 and row["steps"] == 30
    config = json.loads((out / "runs" / tid / "config.json").read_text())
    assert [h["action"] for h in config["history"]] == ["train", "resume"]
    steps = [int(r["step"]) for r in read_csv(out / "runs" / tid / "log.csv")]
    assert steps == list(range(1, 31))


@pytest.mark.slow
def test_killed_driver_then_rerun_gives_the_uninterrupted_rows(study, cluster, tmp_path):
    out, reference = study
    part = copy.deepcopy(TINY)
    part["grid"] = TINY["grid"][:1]  # the beta-vae half: 4 trials
    path = tmp_path / "part.json"
    path.write_text(json.dumps(part))
    target = tmp_path / "s"
    cmd = [sys.executable, "-m", "pyrodis", "study", "run", str(path), "--out", str(target)]
    driver = subprocess.Popen([*cmd, "--address", cluster], cwd=ROOT, stderr=subprocess.DEVNULL)
    records = target / "trials"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:  # kill once a trial has finished and another is running
        recs = (
            [json.loads(p.read_text()) for p in records.glob("*.json")] if records.exists() else []
        )
        if any(r.get("status") == "done" for r in recs) and any(
            r.get("status") == "running" for r in recs
        ):
            break
        time.sleep(0.2)
    driver.send_signal(signal.SIGKILL)
    driver.wait()
    # Ray ends the dead driver's workers; a new attempt waits for them (the record's pid)
    statuses = [json.loads(p.read_text())["status"] for p in records.glob("*.json")]
    assert 1 <= statuses.count("done") < 4  # killed mid-study
    rows = run_study(path, target, progress=False)
    expected = {r["trial"]: comparable(r) for r in reference}
    assert [comparable(r) for r in rows] == [expected[r["trial"]] for r in rows]


def test_report_writes_every_section(study):
    out, _ = study
    assert main(["study", "report", str(out)]) == 0
    page = (out / "study.html").read_text()
    for anchor in SECTIONS:
        assert f'<section id="{anchor}">' in page
    assert page.count("data:image/png;base64,") >= 3
    data = json.loads((out / "study.json").read_text())
    assert set(data["udr"]["settings"]) == {
        r.rsplit("__seed", 1)[0] for r in data["udr"]["model_scores"]
    }
    assert (
        len(data["udr"]["model_scores"]) == 8 and data["udr"]["selected"] in data["udr"]["settings"]
    )
    shares = data["variance_shares"]["mig.mig"]
    assert shares["objective"] + shares["hyperparameter"] + shares["seed"] == pytest.approx(1.0)
    assert len(data["distributions"]["mig.mig"]) == 4
    assert all(len(e["values"]) == 2 for e in data["distributions"]["mig.mig"])
    assert data["correlated_pair_mi"] == []


@pytest.mark.slow
def test_report_plots_the_correlated_pair_against_sigma(cluster, tmp_path):
    corr = spec(**{"data.correlated": ["scale", "shape"]})
    corr["study"]["seeds"] = [0]
    corr["grid"] = [{"preset": "beta-vae", "data.correlation_sigma": [0.2, float("inf")]}]
    out = tmp_path / "s"
    rows = run_study(corr, out, progress=False)
    assert [r["status"] for r in rows] == ["done", "done"]
    page = write_study_report(out).read_text()
    correlated = page.split('<section id="correlated">')[1]
    assert "data:image/png;base64," in correlated.split("</section>")[0]
    pair = json.loads((out / "study.json").read_text())["correlated_pair_mi"]
    assert sorted(e["sigma"] for e in pair) == [0.2, float("inf")]
    for e in pair:
        assert e["pair"] == "scale×shape" and 0 <= e["shared"] <= min(e["top_a"], e["top_b"]) <= 1


def _ignore_sigint() -> None:
    """A job started in the background by a non-interactive shell (``cmd &`` in a script, CI)
    begins with SIGINT ignored."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@pytest.mark.parametrize(
    "sig, launch",
    [(signal.SIGINT, _ignore_sigint), (signal.SIGTERM, None)],
    ids=["ctrl-c-to-a-background-job", "sigterm"],
)
def test_ctrl_c_on_a_study_saves_the_running_trials_and_exits_130(tmp_path, sig, launch):
    """SIGINT (Ctrl-C, or ``kill -INT`` to a study started in the background, whose inherited
    SIGINT is ignored) or SIGTERM (a polite kill) to `pyrodis study run` (its own local Ray): each
    running trial finishes its step, saves an interrupt checkpoint and stops; the driver waits
    for them, says how to continue and exits 130 without a traceback (the next `study run`
    resumes them from there)."""
    part = spec(**{"train.steps": 100_000, "train.checkpoint_every": 50_000})
    part["grid"] = TINY["grid"][:1]
    part["study"]["seeds"] = [0]  # two trials
    path = tmp_path / "long.json"
    path.write_text(json.dumps(part))
    target = tmp_path / "s"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    cmd = [sys.executable, "-m", "pyrodis", "study", "run", str(path), "--out", str(target)]
    driver = subprocess.Popen(
        [*cmd, "--max-concurrent", "2"],
        cwd=ROOT,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=launch,
    )
    logs = [target / "runs" / t.trial_id / "log.csv" for t in expand_trials(read_study(part))]
    deadline = time.monotonic() + 300
    while not all(p.exists() and len(p.read_text().splitlines()) > 3 for p in logs):
        assert driver.poll() is None and time.monotonic() < deadline, "trials did not start"
        time.sleep(0.2)
    driver.send_signal(sig)
    try:
        _, err = driver.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        driver.kill()
        raise AssertionError(f"the driver did not stop within 120 s of {sig!r}") from None
    assert driver.returncode == 130, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
    assert "run the same `pyrodis study run` again to continue" in err
    for log in logs:
        record = json.loads((target / "trials" / f"{log.parent.name}.json").read_text())
        assert record["status"] == "interrupted" and not record["active"]
        manifest = json.loads((log.parent / "checkpoints" / "latest.json").read_text())
        (step,) = [e["step"] for e in manifest["checkpoints"]]  # the interrupt checkpoint
        assert 3 <= step < 50_000
