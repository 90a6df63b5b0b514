"""Screenshot of ``pyrodis explore`` for the docs: serve one or two runs, open the page in
headless chromium (Playwright), move the first slider, open its traversal strip, save a PNG.

    python examples/explore_screenshot.py runs/seed0 [runs/seed1] --out docs/figures/explorer.png

Needs the explore extra, playwright and a chromium (Debian: apt-get install chromium).
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from playwright.sync_api import sync_playwright

from pyrodis.explore.command import load_models
from pyrodis.explore.server import make_explorer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, default=Path("docs/figures/explorer.png"))
    parser.add_argument("--index", type=int, default=1234, help="the dataset image to start from")
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--name", default="", help="a name typed for the first latent")
    args = parser.parse_args()
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    models = load_models(args.runs, num_points=2_000)
    top = models[0].order[0]
    with make_explorer(models, "127.0.0.1", 0).start() as server, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": args.width, "height": 900})
        page.goto(server.url)
        page.wait_for_selector("body[data-ready='1']", timeout=120_000)
        page.fill("#start-index", str(args.index))
        page.click("#start-image")
        page.wait_for_timeout(1500)
        slider = page.locator(f"#run-0 input.slider[data-latent='{top}']")
        for _ in range(40):
            slider.press("ArrowRight")
        page.locator(f"#run-0 .latent[data-latent='{top}'] .strip-button").click()
        if args.name:
            page.locator(f"#run-0 input.name[data-latent='{top}']").fill(args.name)
            page.locator(f"#run-0 input.name[data-latent='{top}']").press("Enter")
        page.wait_for_timeout(1500)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(args.out), full_page=True)
        browser.close()
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
