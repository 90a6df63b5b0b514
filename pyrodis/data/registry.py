"""Datasets by name: ``get_dataset("dsprites")`` and the ``DATASETS`` descriptions."""

from __future__ import annotations

from pathlib import Path

from pyrodis.data.base import GroundTruthDataset
from pyrodis.data.dsprites import DSprites
from pyrodis.data.shapes3d import Shapes3D

_CLASSES: dict[str, type[GroundTruthDataset]] = {"dsprites": DSprites, "shapes3d": Shapes3D}

DATASETS: dict[str, str] = {
    "dsprites": "dSprites: 737,280 binary 1×64×64 sprites; shape 3, scale 6, orientation 40, "
    "posX 32, posY 32 (procedural, or the official .npz/.h5 with path=)",
    "shapes3d": "3D Shapes: 480,000 RGB 3×64×64 scenes; floor/wall/object hue 10 each, scale 8, "
    "shape 4, orientation 15 (procedural look-alike, or the official 3dshapes.h5 with path=)",
}


def get_dataset(name: str, path: str | Path | None = None, **kwargs) -> GroundTruthDataset:
    """The dataset called ``name`` (see ``DATASETS``): procedural, or loaded from ``path``.

    Extra keyword arguments go to the dataset class (e.g. ``verify=True`` for dSprites,
    ``in_memory=False`` for 3D Shapes).  Names are case-insensitive; ``-``/``_`` are ignored.
    """
    key = str(name).lower().replace("-", "").replace("_", "")
    if key not in _CLASSES:
        raise ValueError(f"unknown dataset {name!r}; choose one of {sorted(DATASETS)}")
    return _CLASSES[key](path, **kwargs)
