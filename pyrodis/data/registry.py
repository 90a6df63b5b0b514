"""Datasets by name: :func:`get_dataset`, :func:`list_datasets` and the ``DATASETS`` descriptions.

Names are case-insensitive and ``-``/``_`` are ignored (``mpi3d-toy`` = ``MPI3D_toy``).  A
dataset with official files reads them from ``path=`` or from its default place under the
directory named by ``$PYRODIS_DATA`` (``docs/data.rst``); :func:`list_datasets` says, without
loading anything, which of those files are there.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pyrodis.data.base import GroundTruthDataset
from pyrodis.data.cars3d import Cars3D
from pyrodis.data.data_home import DATA_ENV
from pyrodis.data.dsprites import DSprites
from pyrodis.data.dsprites_variants import ColorDSprites, NoisyDSprites
from pyrodis.data.mpi3d import MPI3D
from pyrodis.data.scream_dsprites import ScreamDSprites
from pyrodis.data.shapes3d import Shapes3D
from pyrodis.data.smallnorb import SPLITS, SmallNORB

__all__ = ["DATASETS", "DatasetEntry", "get_dataset", "list_datasets"]

_DSPRITES_FACTORS = {"shape": 3, "scale": 6, "orientation": 40, "posX": 32, "posY": 32}
_MPI3D_FACTORS = {
    "object_color": 6,
    "object_shape": 6,
    "object_size": 2,
    "camera_height": 3,
    "background_color": 3,
    "first_dof": 40,
    "second_dof": 40,
}


@dataclass(frozen=True)
class DatasetEntry:
    """One named dataset: how to build it and what it needs.

    ``files`` are the default files/directories under ``$PYRODIS_DATA`` (empty: none needed;
    for a procedural dataset they are optional unless ``needs_files``).
    """

    name: str
    build: Callable[..., GroundTruthDataset]
    description: str
    factors: dict[str, int]
    procedural: bool
    files: tuple[str, ...] = ()
    needs_files: bool = True


def _scream(path: Any = None, dsprites_path: Any = None, **kwargs: Any) -> ScreamDSprites:
    return ScreamDSprites(image=path, path=dsprites_path, **kwargs)


def _mpi3d(variant: str) -> Callable[..., MPI3D]:
    return lambda path=None, **kwargs: MPI3D(path, variant=variant, **kwargs)


_NORB_FILES = tuple(f"smallnorb/{s}-{p}.mat" for s in SPLITS for p in ("dat", "cat", "info"))
_ENTRIES = (
    DatasetEntry(
        "dsprites",
        DSprites,
        "dSprites: 737,280 binary 1×64×64 sprites (procedural, or the "
        "official .npz/.h5 with path=)",
        _DSPRITES_FACTORS,
        True,
        needs_files=False,
    ),
    DatasetEntry(
        "color-dsprites",
        ColorDSprites,
        "dSprites × a random colour U[0.5,1]³ per image, 3×64×64 (procedural)",
        _DSPRITES_FACTORS,
        True,
        needs_files=False,
    ),
    DatasetEntry(
        "noisy-dsprites",
        NoisyDSprites,
        "dSprites on uniform noise, 3×64×64 (procedural)",
        _DSPRITES_FACTORS,
        True,
        needs_files=False,
    ),
    DatasetEntry(
        "scream-dsprites",
        _scream,
        "dSprites inverted over random patches of a picture you "
        "supply (path=, or scream.jpg in $PYRODIS_DATA), 3×64×64",
        _DSPRITES_FACTORS,
        True,
        ("scream.jpg",),
    ),
    DatasetEntry(
        "shapes3d",
        Shapes3D,
        "3D Shapes: 480,000 RGB 3×64×64 scenes (procedural look-alike, or "
        "the official 3dshapes.h5 with path=)",
        {
            "floor_hue": 10,
            "wall_hue": 10,
            "object_hue": 10,
            "scale": 8,
            "shape": 4,
            "orientation": 15,
        },
        True,
        needs_files=False,
    ),
    DatasetEntry(
        "smallnorb",
        SmallNORB,
        "SmallNORB: 48,600 photographs, 1×64×64, 4,860 factor "
        "combinations × 10 instances (official files)",
        {"category": 5, "elevation": 9, "azimuth": 18, "lighting": 6},
        False,
        _NORB_FILES,
    ),
    DatasetEntry(
        "cars3d",
        Cars3D,
        "Cars3D: 17,568 RGB 3×64×64 renderings of 183 cars (official files)",
        {"elevation": 4, "azimuth": 24, "object": 183},
        False,
        ("cars",),
    ),
    *(
        DatasetEntry(
            f"mpi3d-{v}",
            _mpi3d(v),
            f"MPI3D {v}: 1,036,800 RGB 3×64×64 images, memory-mapped (official file)",
            _MPI3D_FACTORS,
            False,
            (f"mpi3d_{v}.npz",),
        )
        for v in ("toy", "realistic", "real")
    ),
)


def _key(name: str) -> str:
    return str(name).lower().replace("-", "").replace("_", "").replace("colour", "color")


_BY_KEY = {_key(e.name): e for e in _ENTRIES}
DATASETS: dict[str, str] = {e.name: e.description for e in _ENTRIES}


def get_dataset(name: str, path: str | Path | None = None, **kwargs: Any) -> GroundTruthDataset:
    """The dataset called ``name`` (see ``DATASETS``): procedural, or loaded from ``path``.

    ``path`` is the official file or directory (for ``scream-dsprites``: the background
    picture); without it, datasets with official files look under ``$PYRODIS_DATA``.  Extra
    keyword arguments go to the dataset class (e.g. ``seed=`` for the datasets with a random
    nuisance, ``verify=True`` for dSprites, ``in_memory=False`` for 3D Shapes).
    """
    entry = _BY_KEY.get(_key(name))
    if entry is None:
        raise ValueError(f"unknown dataset {name!r}; choose one of {sorted(DATASETS)}")
    return entry.build(path, **kwargs)


def _found(entry: DatasetEntry) -> bool | None:
    if not entry.files:
        return None
    root = os.environ.get(DATA_ENV)
    if not root:
        return False
    return all((Path(root) / f).exists() for f in entry.files)


def list_datasets() -> list[dict[str, Any]]:
    """Every dataset: name, factors {name: size}, procedural, files_needed, files_found, text.

    ``files_found`` is whether every default file is under ``$PYRODIS_DATA`` (``None`` when the
    dataset needs none); nothing is loaded or checked beyond existence.
    """
    return [
        {
            "name": e.name,
            "factors": dict(e.factors),
            "procedural": e.procedural,
            "files_needed": list(e.files) if e.needs_files else [],
            "files_found": _found(e) if e.needs_files else None,
            "description": e.description,
        }
        for e in _ENTRIES
    ]
