"""The explorer in a real browser: Playwright drives Debian's chromium against the real server.

A person moves a slider and sees the decoded image change, names a latent and finds the name
after a reload (and in the names file the report reads), and opens two runs whose latents are
matched (a model and a copy with its latents permuted and flipped): moving one moves its match.
"""

import io
import shutil

import numpy as np
import pytest
from explore_support import permuted_copy, scripted_vae, train_tiny_run
from PIL import Image

pytest.importorskip("starlette", reason="the explorer needs the explore extra (starlette)")
playwright = pytest.importorskip(
    "playwright.sync_api", reason="the browser tests need playwright: pip install playwright"
)

from pyrodis.diagnostics.latent_names import read_latent_names  # noqa: E402
from pyrodis.explore import explore  # noqa: E402
from pyrodis.explore.command import load_models  # noqa: E402
from pyrodis.explore.server import make_explorer  # noqa: E402
from pyrodis.runs import load_run  # noqa: E402
from pyrodis.runs.report import write_report  # noqa: E402


def _chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return shutil.which(name)
    return None


pytestmark = pytest.mark.skipif(
    _chromium() is None,
    reason="no headless browser: install Debian's chromium (apt-get install -y chromium) to "
    "drive the explorer in a real browser",
)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    return [train_tiny_run(tmp_path_factory.mktemp("explore_browser") / "run", seed=1)]


@pytest.fixture(scope="module")
def browser():
    with playwright.sync_playwright() as p:
        args = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]
        chromium = p.chromium.launch(executable_path=_chromium(), args=args)
        yield chromium
        chromium.close()


def _open(browser, url):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(url)
    page.wait_for_selector("body[data-ready='1']", timeout=60_000)
    return page


def _live(page, run=0):
    """The live image's pixels as the browser shows them (a screenshot of the element)."""
    shot = page.locator(f"#live-{run}").screenshot()
    return np.asarray(Image.open(io.BytesIO(shot)).convert("L"), dtype=np.int64)


def _move(page, run, latent, key):
    """Focus latent ``latent``'s slider of run ``run`` and press ``key`` (End: to the maximum);
    wait until a newer decoded image is shown."""
    live = page.locator(f"#live-{run}")
    version = int(live.get_attribute("data-version"))
    page.locator(f"#run-{run} input.slider[data-latent='{latent}']").press(key)
    page.wait_for_function(
        f"Number(document.getElementById('live-{run}').dataset.version) > {version}"
    )
    page.wait_for_function(f"document.getElementById('live-{run}').complete")


def test_moving_a_slider_changes_the_image_and_a_name_survives_a_reload(runs, browser, tmp_path):
    (model,) = load_models(runs[:1], num_points=500)
    top = model.order[0]
    with make_explorer([model], "127.0.0.1", 0).start() as server:
        page = _open(browser, server.url)
        before = _live(page)
        _move(page, 0, top, "End")
        after = _live(page)
        assert np.abs(after - before).mean() > 0.5, "the decoded image did not change"
        value = float(page.locator(f"#run-0 input.slider[data-latent='{top}']").input_value())
        assert value == pytest.approx(model.high[top], rel=0.02)
        strip_button = page.locator(f"#run-0 .latent[data-latent='{top}'] .strip-button")
        strip_button.click()
        strip = page.locator(f"#run-0 .latent[data-latent='{top}'] img.strip")
        strip.wait_for(state="visible")
        assert strip.evaluate("im => im.naturalWidth") == 9 * 64 + 8 * 2

        name_box = page.locator(f"#run-0 input.name[data-latent='{top}']")
        name_box.fill("size")
        name_box.press("Enter")
        page.locator(f"#run-0 .latent[data-latent='{top}'] .saved").filter(
            has_text="saved"
        ).wait_for()
        page.screenshot(path=str(tmp_path / "explorer.png"), full_page=True)
        page.reload()
        page.wait_for_selector("body[data-ready='1']")
        assert page.locator(f"#run-0 input.name[data-latent='{top}']").input_value() == "size"
        page.close()
    assert read_latent_names(runs[0]) == {top: "size"}
    assert Image.open(tmp_path / "explorer.png").size[0] == 1280
    write_report(load_run(runs[0]), num_points=200)  # the report uses the name
    assert f"z[{top}] size" in (runs[0] / "report.html").read_text()


def test_two_models_side_by_side_move_together(browser):
    """The second model is the first with its latents permuted and two of them flipped (known
    answer); moving latent i of the first moves its match, mirrored where the sign is −."""
    vae, images = scripted_vae()
    perm, sign = [2, 0, 3, 1], [1, -1, -1, 1]
    flipped = permuted_copy(vae, perm, sign)
    with explore(vae, images, compare=flipped, compare_dataset=images, open_browser=False,
                 num_points=300) as server:  # fmt: skip
        page = _open(browser, server.url)
        matching = page.evaluate("state.matching")
        for k, i in enumerate(perm):
            assert matching["partner"][i] == k and matching["sign"][i] == sign[k]
            tag = page.locator(f"#run-0 .latent[data-latent='{i}'] .match").inner_text()
            assert f"z{k}" in tag and ("+" if sign[k] > 0 else "−") in tag
        for i in (2, 0):  # matched with sign + and with sign −
            k = matching["partner"][i]
            other = page.locator(f"#run-1 input.slider[data-latent='{k}']")
            before_value, before_image = float(other.input_value()), _live(page, 1)
            version = int(page.locator("#live-1").get_attribute("data-version"))
            _move(page, 0, i, "End")
            page.wait_for_function(
                f"Number(document.getElementById('live-1').dataset.version) > {version} && "
                "!state.runs[1].inflight && document.getElementById('live-1').complete"
            )
            moved = float(other.input_value())
            assert (moved - before_value) * matching["sign"][i] > 0, "the match moved wrongly"
            assert np.abs(_live(page, 1) - before_image).mean() > 0.5
        page.close()
