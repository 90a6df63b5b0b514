"""Latents explained by a scripted model: two models matched up to permutation and sign (UDR's
matching, a known answer), and factor labels given for images that carry none."""

import json

import numpy as np
import pytest
from explore_support import permuted_copy, scripted_vae

pytest.importorskip("starlette", reason="the explorer needs the explore extra (starlette)")
pytest.importorskip("httpx", reason="Starlette's TestClient needs httpx")
from starlette.testclient import TestClient  # noqa: E402

from pyrodis.explore.app import build_app  # noqa: E402
from pyrodis.explore.command import load_models  # noqa: E402
from pyrodis.explore.matching import match_models  # noqa: E402
from pyrodis.explore.model import ExploredModel  # noqa: E402


def test_two_runs_are_matched_up_to_permutation_and_sign():
    """Known answer: a model and a copy of it with its latents permuted and some flipped."""
    vae, images = scripted_vae()
    perm, sign = [2, 0, 3, 1], [1, -1, -1, 1]
    a = ExploredModel(vae, images, num_points=300)
    b = ExploredModel(permuted_copy(vae, perm, sign), images, num_points=300)
    assert a.active.all() and b.active.all()
    matching = match_models(a, b)
    for k, i in enumerate(perm):
        assert matching.partner[i] == k and matching.sign[i] == sign[k]
    assert matching.strength == pytest.approx(np.ones(4))
    assert 0.0 < matching.udr <= 1.0
    session = TestClient(build_app([a, b], matching), base_url="http://127.0.0.1").get(
        "/api/session"
    )
    assert session.json()["matching"]["partner"] == matching.partner.tolist()
    assert json.dumps(session.json())  # every number is JSON (no NaN)


def test_labels_given_for_plain_images_explain_the_latents():
    """A scripted model on images without factors, with labels passed in: each latent names the
    factor it is most informative about; here the factor is latent 1's own code, binned."""
    vae, images = scripted_vae()
    code = vae.encode(images)[0][:, 1].detach().numpy()
    factors = np.stack([np.digitize(code, np.quantile(code, [0.25, 0.5, 0.75])),
                        np.arange(300) % 2], axis=1)  # fmt: skip
    (model,) = load_models([vae], [images], num_points=300,
                           labels=[{"factors": factors, "factor_names": ["tilt", "parity"]}])  # fmt: skip
    latents = TestClient(build_app([model]), base_url="http://127.0.0.1").get("/api/session")
    by_index = {item["index"]: item for item in latents.json()["runs"][0]["latents"]}
    assert by_index[1]["factor"] == "tilt" and by_index[1]["factor_mi"] > 0.5
    assert all(
        item["factor_mi"] < by_index[1]["factor_mi"] for j, item in by_index.items() if j != 1
    )
