"""3D Shapes (Burgess & Kim 2018): a procedural look-alike with the official grid, or the file.

Factors (file order, orientation fastest; bases 48000, 4800, 480, 60, 15, 1):

=========== ==== ===============================================================
floor_hue     10 k / 10, k = 0..9 (hue on the colour wheel; the last is not red again)
wall_hue      10 as floor_hue
object_hue    10 as floor_hue
scale          8 linspace(0.75, 1.25, 8) (the values the official file holds)
shape          4 0 = cube, 1 = cylinder, 2 = sphere, 3 = capsule
orientation   15 linspace(-30, 30, 15) degrees
=========== ==== ===============================================================

480,000 RGB 64×64 images, float32 in [0, 1].

Procedural rendering (``path=None``): the 8·4·15 = 480 views of the room are ray-cast once into
label maps with shading (:mod:`pyrodis.data.shapes3d_render`); a batch is one weighted sum of each
image's view (shaded one-hot labels of floor, wall, object) with its three hue colours
(:func:`render_scenes`), so the 1,000 hue combinations cost a palette lookup.  Every factor changes the picture: the three hues colour
the floor, wall and object; scale sizes the object; shape changes its silhouette; orientation
turns the camera (the floor/wall edge tilts, the shadow moves, the cube and capsule turn).

``path=...`` loads the official ``3dshapes.h5`` (``images`` (480000, 64, 64, 3) uint8,
``labels`` (480000, 6) float64); factor values, including the scales, are read from
``labels``.  ``in_memory=False`` reads batches from the open file instead of loading 5.9 GB.

Reference: C. Burgess, H. Kim. 3D Shapes Dataset. https://github.com/deepmind/3dshapes-dataset/,
2018 (introduced with FactorVAE, Kim & Mnih 2018).
"""

from __future__ import annotations

import colorsys
import functools
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from pyrodis.data import hdf5_files
from pyrodis.data import official_files as files
from pyrodis.data.base import GroundTruthDataset
from pyrodis.data.shapes3d_render import SHAPES, render_label_map

IMAGE_SIZE = 64
FACTOR_NAMES = ("floor_hue", "wall_hue", "object_hue", "scale", "shape", "orientation")
FACTOR_SIZES = (10, 10, 10, 8, 4, 15)
SATURATION = 0.75


def procedural_factor_values() -> tuple[np.ndarray, ...]:
    """Values of each factor class of the procedural dataset."""
    hue = np.arange(10) / 10.0
    return (hue, hue, hue, np.linspace(0.75, 1.25, 8), np.arange(4.0), np.linspace(-30, 30, 15))


@functools.lru_cache(maxsize=1)
def view_table() -> torch.Tensor:
    """Shaded one-hot labels of all 480 views: float32 (8 scales·4 shapes·15 orientations, 3, 4096).

    Row ``(scale · 4 + shape) · 15 + orientation``; channel 0/1/2 = floor/wall/object, holding
    the pixel's shade where the pixel shows that surface and 0 elsewhere.
    """
    values = procedural_factor_values()
    table = np.zeros((8, 4, 15, 3, IMAGE_SIZE * IMAGE_SIZE), dtype=np.float32)
    for i, scale in enumerate(values[3]):
        for shape in range(len(SHAPES)):
            for j, angle in enumerate(values[5]):
                label, shade = render_label_map(shape, float(scale), float(angle), IMAGE_SIZE)
                onehot = label.reshape(1, -1) == np.arange(3)[:, None]
                table[i, shape, j] = onehot * shade.reshape(1, -1)
    return torch.from_numpy(table.reshape(-1, 3, IMAGE_SIZE * IMAGE_SIZE))


def hue_palette(hues: np.ndarray) -> torch.Tensor:
    """RGB (len(hues), 3) float32 of fully bright colours of the given hues."""
    rgb = [colorsys.hsv_to_rgb(float(h), SATURATION, 1.0) for h in hues]
    return torch.tensor(rgb, dtype=torch.float32)


def render_scenes(factors: torch.Tensor, palette: torch.Tensor) -> torch.Tensor:
    """Render validated factor classes (n, 6) int64 into float32 images (n, 3, 64, 64).

    Channel ``c`` of an image is ``Σ_s colour[s, c] · view[s]`` over the surfaces s (floor,
    wall, object) of its view's shaded one-hot labels: one ``embedding_bag`` sum over the
    view table with the colours as per-sample weights, which gathers and weights in one pass
    (``docs/data.rst`` says why).
    """
    table = view_table()
    views = (factors[:, 3] * 4 + factors[:, 4]) * 15 + factors[:, 5]
    colours = palette[factors[:, :3]].transpose(1, 2)  # (n, RGB, 3 surfaces)
    rows = (views[:, None, None] * 3 + torch.arange(3)).expand(-1, 3, -1)  # (n, RGB, surfaces)
    out = torch.nn.functional.embedding_bag(
        rows.reshape(-1),
        table.reshape(-1, IMAGE_SIZE * IMAGE_SIZE),
        offsets=torch.arange(0, rows.numel(), 3),
        mode="sum",
        per_sample_weights=colours.reshape(-1),
    )
    return out.view(-1, 3, IMAGE_SIZE, IMAGE_SIZE)


class Shapes3D(GroundTruthDataset):
    """3D Shapes: 3×64×64 RGB scenes of a coloured object in a coloured room.

    Args:
        path: ``None`` for the procedural look-alike, or the official ``3dshapes.h5``.
        in_memory: load a file's images into memory (fast; 5.9 GB for the full file) or read
            each batch from the open file (``False``; slower, little memory).
    """

    factor_names = FACTOR_NAMES
    observation_shape = (3, IMAGE_SIZE, IMAGE_SIZE)

    def __init__(self, path: str | Path | None = None, in_memory: bool = True):
        self.path = None if path is None else Path(path)
        self._images = None
        if self.path is None:
            self.factor_sizes = FACTOR_SIZES
            self.factor_values = procedural_factor_values()
            self._palette = hue_palette(self.factor_values[0])
        else:
            self._load(self.path, in_memory)

    def observations(self, factors: np.ndarray | Sequence) -> torch.Tensor:
        """Images of factor classes (n, 6): float32 tensor (n, 3, 64, 64) in [0, 1]."""
        arr = self.validate_factors(factors)
        if self._images is not None:
            return self._read(arr @ self.factor_bases)
        return render_scenes(torch.from_numpy(arr), self._palette)

    # ------------------------------------------------------------------------------ file access
    def _load(self, path: Path, in_memory: bool) -> None:
        if files.file_kind(path) != "hdf5":
            raise files.DatasetFileError(
                f"{path}: is a zip archive, but 3D Shapes is distributed as HDF5 "
                "(3dshapes.h5 with datasets 'images' and 'labels'); pass that file"
            )
        h5 = hdf5_files.open_hdf5(path)
        labels = hdf5_files.hdf5_dataset(path, h5, "labels", (None, 6))[()]
        files.check_finite(path, labels, "labels", FACTOR_NAMES)
        node = hdf5_files.hdf5_dataset(path, h5, "images", (len(labels), IMAGE_SIZE, IMAGE_SIZE, 3))
        classes, tables = files.classes_from_values(labels)
        self.factor_sizes = files.grid_sizes(path, classes, "labels")
        self.factor_values = tuple(tables)
        if in_memory:
            self._images = hdf5_files.read_hdf5_images(node, np.ascontiguousarray)
            h5.close()
        else:
            self._images, self._h5 = node, h5

    def _read(self, index: np.ndarray) -> torch.Tensor:
        if isinstance(self._images, np.ndarray):
            pixels = self._images[index]
        else:  # h5py reads only increasing, distinct rows
            rows, inverse = np.unique(index, return_inverse=True)
            pixels = self._images[rows][inverse.reshape(-1)]
        return torch.from_numpy(pixels).permute(0, 3, 1, 2).float().div_(255.0)

    def __repr__(self) -> str:
        source = "procedural" if self.path is None else str(self.path)
        return f"{super().__repr__()[:-1]}; {source})"


__all__ = [
    "SHAPES",
    "Shapes3D",
    "hue_palette",
    "procedural_factor_values",
    "render_scenes",
    "view_table",
]
