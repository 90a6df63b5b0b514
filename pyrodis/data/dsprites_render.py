"""Binary sprite rasterisation for the procedural dSprites renderer.

Each sprite (square, ellipse, heart) is a region of the plane with radius at most 1 around the
origin; it is scaled, rotated counter-clockwise by ``angle`` (radians, screen up is +y) and
point-sampled at pixel centres without antialiasing, as the official sprites were (Matthey et al.
2017, https://github.com/deepmind/dsprites-dataset).  The exact official outlines were never
published, so the shapes here are look-alikes: the factor grid, not the pixels, is reproduced.
"""

from __future__ import annotations

import functools

import numpy as np

SHAPES = ("square", "ellipse", "heart")

# Corners just inside the unit circle (1/√2 would touch it).  0.68 rather than 0.707: with
# 0.707 the edges of the three smallest squares fall half-way between pixel centres, and the
# orientations ±4.6° off a quarter turn (classes 19 and 20) rasterise to the same pixels.
_SQUARE_HALF_SIDE = 0.68
_ELLIPSE_AXES = (1.0, 0.5)


def _heart_raw(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Inside of the classic heart curve (x² + y² − 1)³ − x² y³ ≤ 0 (lobes up, tip down)."""
    return (x**2 + y**2 - 1.0) ** 3 - x**2 * y**3 <= 0.0


@functools.lru_cache(maxsize=1)
def _heart_frame() -> tuple[float, float]:
    """Centre (y) and radius of the raw heart, so that the normalised heart fits the unit disc."""
    grid = np.linspace(-1.5, 1.5, 901)
    x, y = np.meshgrid(grid, grid)
    inside = _heart_raw(x, y)
    y0 = 0.5 * (y[inside].min() + y[inside].max())
    radius = np.sqrt(x[inside] ** 2 + (y[inside] - y0) ** 2).max()
    return float(y0), float(radius) * 1.01  # 1 % slack for the grid resolution


def shape_mask(shape: int, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Membership of points (x, y) (y up) in the unit-radius shape ``shape`` (0, 1 or 2)."""
    if shape == 0:
        return np.maximum(np.abs(x), np.abs(y)) <= _SQUARE_HALF_SIDE
    if shape == 1:
        a, b = _ELLIPSE_AXES
        return (x / a) ** 2 + (y / b) ** 2 <= 1.0
    if shape == 2:
        y0, radius = _heart_frame()
        return _heart_raw(x * radius, y * radius + y0)
    raise ValueError(f"shape must be 0 (square), 1 (ellipse) or 2 (heart), got {shape}")


def render_sprite(shape: int, radius: float, angles: np.ndarray | float, size: int) -> np.ndarray:
    """Rasterise a sprite at each of ``angles`` into boolean patches (len(angles), size, size).

    The shape's centre is the patch centre ``size / 2`` (between the middle pixels), pixel
    ``(r, c)`` is sampled at its centre ``(r + 0.5, c + 0.5)``, ``radius`` is the scaled unit radius
    in pixels and an angle rotates the shape counter-clockwise on screen.  Every set pixel lies
    within ``radius`` of the patch centre.  Angles are reduced modulo 2π first, so that 0 and 2π
    give identical pixels.
    """
    centres = np.arange(size) + 0.5 - size / 2.0
    u = centres[None, None, :]  # right
    up = -centres[None, :, None]  # rows go down, y goes up
    angles = np.mod(np.atleast_1d(np.asarray(angles, dtype=np.float64)), 2.0 * np.pi)
    cos, sin = np.cos(angles)[:, None, None], np.sin(angles)[:, None, None]
    # rotate the sampling points by -angle into the shape's own frame
    x = (cos * u + sin * up) / radius
    y = (-sin * u + cos * up) / radius
    return shape_mask(shape, x, y)


def render_sprite_table(radii: np.ndarray, angles: np.ndarray, size: int) -> np.ndarray:
    """All sprites: boolean array (len(SHAPES), len(radii), len(angles), size, size)."""
    return np.stack(
        [np.stack([render_sprite(s, float(r), angles, size) for r in radii]) for s in range(3)]
    )
