"""Writes studies/scream-background.png, the stand-in picture of dsprites-variants.toml.

scream-dSprites draws sprites over patches of a painting the user supplies (the reference study
uses Munch's The Scream, which pyrodis does not ship). This picture is procedural: smooth hue
bands bent around two centres, 350×274 like the reference's thumbnail. Run from the repository
root: ``python studies/scream_background.py``.
"""

import numpy as np
from PIL import Image

HEIGHT, WIDTH = 274, 350


def picture() -> Image.Image:
    y, x = np.mgrid[0:HEIGHT, 0:WIDTH] / 100.0
    swirl = np.sin(3 * np.hypot(x - 1.2, y - 0.9) + 2 * np.arctan2(y - 0.9, x - 1.2)) + np.cos(
        2.5 * np.hypot(x - 2.6, y - 2.0)
    )
    hue = (swirl / 4 + 0.5 + 0.15 * np.sin(y * 2)) % 1.0
    sat = 0.55 + 0.35 * np.cos(x * 1.7 + y)
    val = 0.45 + 0.45 * (0.5 + 0.5 * np.sin(4 * swirl))
    hsv = (np.stack([hue, sat, val], -1) * 255).astype(np.uint8)
    return Image.fromarray(hsv, "HSV").convert("RGB")


if __name__ == "__main__":
    picture().save("studies/scream-background.png", optimize=True)
