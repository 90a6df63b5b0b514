"""Datasets with known generative factors (procedural and official-file loaders)."""

from pyrodis.data.base import GroundTruthDataset, as_generator
from pyrodis.data.dsprites import DSprites
from pyrodis.data.loader import GroundTruthLoader, make_loader
from pyrodis.data.official_files import DatasetFileError

__all__ = [
    "DSprites",
    "DatasetFileError",
    "GroundTruthDataset",
    "GroundTruthLoader",
    "as_generator",
    "make_loader",
]
