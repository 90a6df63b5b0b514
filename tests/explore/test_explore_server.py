"""The explorer's server, without a browser: what it serves for a trained run, UDR's matching of
two runs, latent names saved in the run, and a 4xx answer (never a traceback) to every bad
request."""

import io
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import torch
from explore_support import train_tiny_run
from PIL import Image

pytest.importorskip("starlette", reason="the explorer needs the explore extra (starlette)")
pytest.importorskip("httpx", reason="Starlette's TestClient needs httpx")
from starlette.testclient import TestClient  # noqa: E402

from pyrodis.diagnostics.latent_names import NAMES_FILE, read_latent_names  # noqa: E402
from pyrodis.explore import ExploreError  # noqa: E402
from pyrodis.explore.app import build_app  # noqa: E402
from pyrodis.explore.command import load_models, main  # noqa: E402
from pyrodis.explore.model import ExploredModel  # noqa: E402
from pyrodis.explore.server import bind, make_explorer  # noqa: E402


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    return train_tiny_run(tmp_path_factory.mktemp("explore") / "run", seed=1)


@pytest.fixture(scope="module")
def model(run_dir):
    return load_models([run_dir], num_points=500)[0]


@pytest.fixture
def client(model):
    return TestClient(build_app([model]), base_url="http://127.0.0.1")


def _pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)))


def _expected(model, z) -> np.ndarray:
    with torch.no_grad():
        image = model.vae.decode(torch.tensor([z], dtype=torch.float32))[0, 0]
    return np.rint(image.clamp(0, 1).numpy() * 255).astype(np.uint8)


def test_the_session_orders_latents_by_kl_with_ranges_and_factors(client, model):
    runs = client.get("/api/session").json()["runs"]
    latents = runs[0]["latents"]
    kl = [item["kl"] for item in latents]
    assert kl == sorted(kl, reverse=True) and sorted(i["index"] for i in latents) == [0, 1, 2, 3]
    variances = model.aggregate.mean_variances()
    assert all(item["active"] == (variances[item["index"]] > 0.01) for item in latents)
    assert all(item["low"] < item["center"] < item["high"] for item in latents)
    # the range is the 0.5 %/99.5 % quantiles of q(z_j): inside the bulk of the mean ± 4 sd
    assert all(item["high"] - item["low"] < 8 * item["spread"] for item in latents)
    assert runs[0]["factor_names"] == ["shape", "scale", "orientation", "posX", "posY"]
    assert all(item["factor"] in runs[0]["factor_names"] for item in latents)
    assert all(0.0 <= item["factor_mi"] <= 1.0 for item in latents)
    best = model.normalised_mi.max(1)
    assert [item["factor_mi"] for item in latents] == pytest.approx(best[model.order].tolist())


def test_a_slider_value_decodes_to_the_model_image(client, model):
    start = client.post("/api/run/0/start", json={"kind": "data", "index": 7}).json()
    assert start["index"] == 7
    code = model.vae.encode(model.observations([7]))[0][0].detach().numpy()
    assert start["z"] == pytest.approx(code.tolist(), abs=1e-6)
    z = list(start["z"])
    first = client.post("/api/run/0/decode", json={"z": z})
    assert first.headers["content-type"] == "image/png"
    assert np.array_equal(_pixels(first.content), _expected(model, z))
    top = model.order[0]
    z[top] = float(model.high[top])
    moved = _pixels(client.post("/api/run/0/decode", json={"z": z}).content)
    assert np.array_equal(moved, _expected(model, z))
    assert np.abs(moved.astype(int) - _pixels(first.content).astype(int)).sum() > 0


def test_a_traversal_strip_is_one_decoder_call(client, model, monkeypatch):
    calls = []
    decode = model.vae.decode
    monkeypatch.setattr(model.vae, "decode", lambda z: calls.append(z.shape) or decode(z))
    z = [0.1, -0.2, 0.3, 0.0]
    strip = _pixels(client.post("/api/run/0/traversal", json={"z": z, "latent": 2}).content)
    assert calls == [torch.Size([9, 4])]
    assert strip.shape == (64, 9 * 64 + 8 * 2)
    last = list(z)
    last[2] = float(model.high[2])
    assert np.array_equal(strip[:, -64:], _expected(model, last))


@pytest.mark.parametrize("kind", ["data", "prior", "posterior"])
def test_starting_codes_are_seeded(client, kind):
    body = {"kind": kind, "seed": 5}
    a, b = (client.post("/api/run/0/start", json=body).json() for _ in range(2))
    c = client.post("/api/run/0/start", json={**body, "seed": 6}).json()
    assert a == b and a["z"] != c["z"] and len(a["z"]) == 4
    assert (a["index"] is None) == (kind != "data")


def test_a_name_is_saved_in_its_own_file_and_read_back(run_dir, model):
    before = {p.name: p.read_bytes() for p in (run_dir / "checkpoints").iterdir()}
    listing = sorted(p.name for p in run_dir.iterdir())
    client = TestClient(build_app([model]), base_url="http://127.0.0.1")
    answer = client.put("/api/run/0/names/2", json={"name": "  position x "})
    assert answer.json() == {"names": {"2": "position x"}}
    assert read_latent_names(run_dir) == {2: "position x"}
    assert sorted(p.name for p in run_dir.iterdir()) == sorted({*listing, NAMES_FILE})
    assert {p.name: p.read_bytes() for p in (run_dir / "checkpoints").iterdir()} == before
    fresh = ExploredModel(model.vae, model.source.dataset, run_dir=run_dir, num_points=50)
    latents = TestClient(build_app([fresh]), base_url="http://127.0.0.1").get("/api/session")
    assert {i["index"]: i["name"] for i in latents.json()["runs"][0]["latents"]}[2] == "position x"
    client.put("/api/run/0/names/2", json={"name": ""})
    assert read_latent_names(run_dir) == {}


BAD = [
    ("get", "/static/../model.py", None, 404),
    ("get", "/static/%2e%2e/model.py", None, 404),
    ("get", "/static/..%2f..%2fconfig.json", None, 404),
    ("get", "/../../../etc/passwd", None, 404),
    ("get", "/api/run/2/image/0", None, 404),
    ("get", "/api/run/-1/image/0", None, 404),
    ("get", "/api/run/0/image/99999999", None, 422),
    ("post", "/api/run/1/decode", {"z": [0, 0, 0, 0]}, 404),
    ("post", "/api/run/0/decode", {"z": [0, 0, 0]}, 422),
    ("post", "/api/run/0/decode", {"z": [0, 0, 0, 1e300]}, 422),
    ("post", "/api/run/0/decode", {"z": [0, 0, 0, "1"]}, 422),
    ("post", "/api/run/0/decode", {"z": [0, 0, 0, True]}, 422),
    ("post", "/api/run/0/decode", {"z": "0,0,0,0"}, 422),
    ("post", "/api/run/0/decode", {}, 422),
    ("post", "/api/run/0/decode", b'{"z": [0, 0, 0, NaN]}', 400),
    ("post", "/api/run/0/decode", b'{"z": [0, 0, 0, Infinity]}', 400),
    ("post", "/api/run/0/decode", b'{"z": [0, 0, ', 400),
    ("post", "/api/run/0/decode", b"\xff\xfe", 400),
    ("post", "/api/run/0/decode", b"[0, 0, 0, 0]", 400),
    ("post", "/api/run/0/decode", b"[" * 100_000, 413),
    ("post", "/api/run/0/traversal", {"z": [0, 0, 0, 0], "latent": 4}, 422),
    ("post", "/api/run/0/traversal", {"z": [0, 0, 0, 0], "latent": -1}, 422),
    ("post", "/api/run/0/traversal", {"z": [0, 0, 0, 0], "latent": 0, "steps": 10_000}, 422),
    ("post", "/api/run/0/start", {"kind": "../../etc/passwd"}, 422),
    ("post", "/api/run/0/start", {"kind": "data", "index": 10**9}, 422),
    ("post", "/api/run/0/start", {"kind": "data", "index": 1.5}, 422),
    ("put", "/api/run/0/names/4", {"name": "pose"}, 404),
    ("put", "/api/run/0/names/0", {"name": "x" * 41}, 422),
    ("put", "/api/run/0/names/0", {"name": "a\nb"}, 422),
    ("put", "/api/run/0/names/0", {"name": 3}, 422),
    ("put", "/api/run/0/names/0", None, 415),
    ("get", "/api/run/0/decode", None, 405),
]


@pytest.mark.parametrize("method,path,body,status", BAD)
def test_every_bad_request_gets_a_4xx_and_the_server_goes_on(client, run_dir, method, path, body,
                                                             status):  # fmt: skip
    kwargs = {}
    if isinstance(body, bytes):
        kwargs = {"content": body, "headers": {"Content-Type": "application/json"}}
    elif body is not None:
        kwargs = {"json": body}
    listing = sorted(p.name for p in run_dir.rglob("*"))
    answer = getattr(client, method)(path, **kwargs)
    assert answer.status_code == status, answer.text
    assert "Traceback" not in answer.text and 'File "' not in answer.text
    if answer.headers.get("content-type") == "application/json" and status != 405:
        assert answer.json()["error"]
    assert sorted(p.name for p in run_dir.rglob("*")) == listing
    assert client.post("/api/run/0/decode", json={"z": [0, 0, 0, 0]}).status_code == 200


def test_another_host_header_is_refused_on_loopback(client):
    """A page of another site that resolves its name to 127.0.0.1 (DNS rebinding) is refused."""
    assert client.get("/api/session", headers={"Host": "evil.example"}).status_code == 400
    assert client.get("/api/session", headers={"Host": "localhost:8765"}).status_code == 200


def test_a_text_body_is_refused(client):
    answer = client.post("/api/run/0/decode", content=b'{"z": [0, 0, 0, 0]}')
    assert answer.status_code == 415 and "application/json" in answer.json()["error"]


def test_a_run_being_written_loads_its_newest_complete_checkpoint(run_dir, tmp_path):
    import shutil

    copy = tmp_path / "run"
    shutil.copytree(run_dir, copy)
    newest = sorted((copy / "checkpoints").glob("step_*.pt"))[-1]
    half = copy / "checkpoints" / "step_00009999.pt"
    half.write_bytes(newest.read_bytes()[: newest.stat().st_size // 2])
    (model,) = load_models([copy], num_points=50)
    assert model.latent_dim == 4
    empty = tmp_path / "empty"
    shutil.copytree(run_dir, empty, ignore=shutil.ignore_patterns("*.pt", "latest.json"))
    with pytest.raises(ExploreError, match="no checkpoint yet"):
        load_models([empty])
    with pytest.raises(ExploreError, match="not a run directory"):
        load_models([tmp_path / "nowhere"])


def test_the_command_line_explains_what_is_wrong(run_dir, tmp_path, capsys):
    assert main([str(tmp_path / "nowhere"), "--no-browser"]) == 2
    assert "not a run directory" in capsys.readouterr().err
    assert main([str(run_dir)] * 3 + ["--no-browser"]) == 2
    assert "one run or two" in capsys.readouterr().err
    taken = bind("127.0.0.1", 0)
    port = taken.getsockname()[1]
    try:
        cmd = [sys.executable, "-m", "pyrodis.explore", str(run_dir), "--port", str(port)]
        out = subprocess.run(cmd + ["--no-browser"], capture_output=True, text=True, timeout=300)
    finally:
        taken.close()
    assert out.returncode == 2, out.stderr
    assert f"127.0.0.1:{port}" in out.stderr and "--port" in out.stderr
    assert "Traceback" not in out.stderr


def test_serving_beyond_loopback_warns(model, capsys):
    server = make_explorer([model], "0.0.0.0", 0)
    server.sock.close()
    assert "WARNING" in capsys.readouterr().err


def test_a_missing_extra_names_it(monkeypatch):
    from pyrodis.explore.server import require_web

    monkeypatch.setitem(sys.modules, "uvicorn", None)
    with pytest.raises(ExploreError, match=r"pyrodis\[explore\]"):
        require_web()


def test_many_clients_at_once_on_the_real_server(model):
    import httpx

    codes = np.random.default_rng(0).normal(size=(24, 4)).round(3).tolist()
    with make_explorer([model], "127.0.0.1", 0).start() as server:

        def fetch(z):
            with httpx.Client(base_url=server.url) as http:
                return http.post("api/run/0/decode", json={"z": z}).content

        with ThreadPoolExecutor(4) as pool:
            images = list(pool.map(fetch, codes))
    assert all(np.array_equal(_pixels(im), _expected(model, z)) for im, z in zip(images, codes))


def test_two_run_directories_are_served_side_by_side(run_dir):
    server = make_explorer(load_models([run_dir, run_dir], num_points=200), "127.0.0.1", 0)
    server.sock.close()
    session = TestClient(server.server.config.app, base_url="http://127.0.0.1").get("/api/session")
    runs, matching = session.json()["runs"], session.json()["matching"]
    assert [r["name"] for r in runs] == ["run", "run"]
    active = [i for i, item in enumerate(runs[0]["latents"]) if item["active"]]
    # a run against itself: every active latent is its own match, with sign +
    order = [item["index"] for item in runs[0]["latents"]]
    for i in (order[k] for k in active):
        assert matching["partner"][i] == i and matching["sign"][i] == 1


def test_the_page_works_offline(client):
    """Every asset the page loads comes from the package itself (no CDN, no other host)."""
    import re

    html = client.get("/").text
    links = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert links and all(link.startswith("/static/") for link in links)
    for link in links:
        text = client.get(link).text
        assert not re.search(r"https?://|//cdn|@import", text), link
