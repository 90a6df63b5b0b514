"""Ray-cast label maps of the procedural 3D Shapes room: floor, back wall and one object.

The room is drawn once per (shape, scale, orientation): each pixel gets a label (0 floor, 1 wall,
2 object) and a grey shade in [0, 1] (Lambert shading under a fixed directional light, with the
object's shadow on the floor and wall).  Hues are applied later by palette lookup, so the
1,000 hue combinations cost nothing to render.

Geometry (world units, y up): floor ``y = 0``, back wall ``z = WALL_Z``, the object standing on
the floor at the origin.  An orthographic camera looks at the object from elevation
``ELEVATION`` and azimuth ``orientation`` (degrees): turning it rotates the floor/wall edge in
the picture, moves the shadow and turns the cube and the lying capsule.  This is a look-alike of
Burgess & Kim's MuJoCo scenes (https://github.com/deepmind/3d-shapes), not a copy.
"""

from __future__ import annotations

import numpy as np

SHAPES = ("cube", "cylinder", "sphere", "capsule")
WALL_Z = 2.2
ELEVATION = np.deg2rad(32.0)
HALF_WIDTH = 3.0  # the picture spans [-HALF_WIDTH, HALF_WIDTH] world units
TARGET = np.array([0.0, 1.4, 0.6])  # world point at the picture's centre
LIGHT = np.array([-0.55, 1.0, -0.45]) / np.linalg.norm([-0.55, 1.0, -0.45])
FLOOR, WALL, OBJECT = 0, 1, 2
_EPS = 1e-6


def _none(rays: int) -> tuple[np.ndarray, np.ndarray]:
    return np.full(rays, np.inf), np.zeros((rays, 3))


def _keep(
    t: np.ndarray, normal: np.ndarray, t_new: np.ndarray, n_new: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    closer = t_new < t
    return np.where(closer, t_new, t), np.where(closer[:, None], n_new, normal)


def hit_sphere(
    o: np.ndarray, d: np.ndarray, centre: np.ndarray, radius: float
) -> tuple[np.ndarray, np.ndarray]:
    """Nearest hit distance (inf if none) and unit normal of rays ``o + t d`` with a sphere."""
    oc = o - centre
    b = (oc * d).sum(1)
    disc = b**2 - ((oc * oc).sum(1) - radius**2)
    t = -b - np.sqrt(np.maximum(disc, 0.0))
    t = np.where((disc >= 0) & (t > _EPS), t, np.inf)
    p = o + np.where(np.isfinite(t), t, 0.0)[:, None] * d
    return t, (p - centre) / radius


def hit_cylinder(
    o: np.ndarray, d: np.ndarray, centre: np.ndarray, radius: float, half: float, axis: int
) -> tuple[np.ndarray, np.ndarray]:
    """Hit of the side of a cylinder along coordinate ``axis`` (|x_axis − c_axis| ≤ half)."""
    other = [k for k in range(3) if k != axis]
    oc = (o - centre)[:, other]
    dd = d[:, other]
    a = (dd * dd).sum(1)
    b = (oc * dd).sum(1)
    disc = b**2 - a * ((oc * oc).sum(1) - radius**2)
    t = (-b - np.sqrt(np.maximum(disc, 0.0))) / np.maximum(a, _EPS)
    p = o + np.where(np.isfinite(t), t, 0.0)[:, None] * d
    inside = np.abs(p[:, axis] - centre[axis]) <= half
    t = np.where((disc >= 0) & (a > _EPS) & (t > _EPS) & inside, t, np.inf)
    normal = p - centre
    normal[:, axis] = 0.0
    return t, normal / radius


def hit_plane(
    o: np.ndarray,
    d: np.ndarray,
    axis: int,
    value: float,
    normal_sign: float,
    lo: np.ndarray | None = None,
    hi: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Hit of the plane ``x_axis = value`` (optionally only where the other coords are in a box)."""
    t = (value - o[:, axis]) / np.where(np.abs(d[:, axis]) > _EPS, d[:, axis], np.nan)
    t = np.where(np.isfinite(t) & (t > _EPS), t, np.inf)
    if lo is not None:
        p = o + np.where(np.isfinite(t), t, 0.0)[:, None] * d
        inside = np.all((p >= np.asarray(lo) - _EPS) & (p <= np.asarray(hi) + _EPS), axis=1)
        t = np.where(inside, t, np.inf)
    normal = np.zeros((len(o), 3))
    normal[:, axis] = normal_sign
    return t, normal


def hit_object(
    o: np.ndarray, d: np.ndarray, shape: int, scale: float
) -> tuple[np.ndarray, np.ndarray]:
    """Nearest hit and normal of the object ``SHAPES[shape]`` at ``scale`` standing at the origin."""
    t, normal = _none(len(o))
    if shape == 0:  # cube, half side 0.8
        a = 0.8 * scale
        lo, hi = np.array([-a, 0.0, -a]), np.array([a, 2 * a, a])
        for axis in range(3):
            for value, sign in ((lo[axis], -1.0), (hi[axis], 1.0)):
                t, normal = _keep(t, normal, *hit_plane(o, d, axis, value, sign, lo, hi))
    elif shape == 1:  # upright cylinder, radius 0.75, height 1.6, with its top cap
        r, h = 0.75 * scale, 1.6 * scale
        centre = np.array([0.0, h / 2, 0.0])
        t, normal = _keep(t, normal, *hit_cylinder(o, d, centre, r, h / 2, axis=1))
        t_cap, n_cap = hit_plane(o, d, 1, h, 1.0)
        p = o + np.where(np.isfinite(t_cap), t_cap, 0.0)[:, None] * d
        t_cap = np.where(p[:, 0] ** 2 + p[:, 2] ** 2 <= r**2, t_cap, np.inf)
        t, normal = _keep(t, normal, t_cap, n_cap)
    elif shape == 2:  # sphere, radius 0.9
        r = 0.9 * scale
        t, normal = hit_sphere(o, d, np.array([0.0, r, 0.0]), r)
    elif shape == 3:  # capsule lying along x: radius 0.55, half length 0.75 between the caps
        r, half = 0.55 * scale, 0.75 * scale
        centre = np.array([0.0, r, 0.0])
        t, normal = _keep(t, normal, *hit_cylinder(o, d, centre, r, half, axis=0))
        for end in (-half, half):
            cap = centre + np.array([end, 0.0, 0.0])
            t, normal = _keep(t, normal, *hit_sphere(o, d, cap, r))
    else:
        raise ValueError(f"shape must be 0..3 ({', '.join(SHAPES)}), got {shape}")
    return t, normal


def camera_rays(orientation_deg: float, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Origins and direction of the orthographic camera's rays, one per pixel (row-major)."""
    theta = np.deg2rad(orientation_deg)
    ce, se = np.cos(ELEVATION), np.sin(ELEVATION)
    forward = np.array([np.sin(theta) * ce, -se, np.cos(theta) * ce])
    right = np.array([np.cos(theta), 0.0, -np.sin(theta)])
    up = np.cross(forward, right)
    coords = (np.arange(size) + 0.5) / size * 2 * HALF_WIDTH - HALF_WIDTH
    u, v = np.meshgrid(coords, -coords)  # rows go down
    origins = TARGET - 20.0 * forward + u.reshape(-1, 1) * right + v.reshape(-1, 1) * up
    return origins, np.broadcast_to(forward, origins.shape)


def render_label_map(
    shape: int, scale: float, orientation_deg: float, size: int
) -> tuple[np.ndarray, np.ndarray]:
    """Labels (size, size) uint8 and shades (size, size) float32 of one view of the room."""
    o, d = camera_rays(orientation_deg, size)
    t_floor, n_floor = hit_plane(o, d, 1, 0.0, 1.0)
    t_wall, n_wall = hit_plane(o, d, 2, WALL_Z, -1.0)
    t_obj, n_obj = hit_object(o, d, shape, scale)
    t = np.stack([t_floor, t_wall, t_obj], 1)
    label = np.argmin(t, axis=1)
    normal = np.choose(label[:, None], [n_floor, n_wall, n_obj])
    point = o + np.min(t, axis=1)[:, None] * d
    lambert = np.clip(normal @ LIGHT, 0.0, 1.0)
    # shadow: does the way from the point to the light meet the object?
    start = point + 1e-4 * normal
    shadow = np.isfinite(hit_object(start, np.broadcast_to(LIGHT, start.shape), shape, scale)[0])
    shade = 0.4 + 0.6 * lambert * np.where(shadow & (label != OBJECT), 0.45, 1.0)
    # a soft darkening of the wall towards the top and of the floor towards the camera
    shade *= np.where(label == WALL, 1.0 - 0.06 * point[:, 1], 1.0)
    shade = np.clip(shade, 0.0, 1.0)
    return label.reshape(size, size).astype(np.uint8), shade.reshape(size, size).astype(np.float32)
