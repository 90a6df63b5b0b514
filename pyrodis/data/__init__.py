"""Datasets with known generative factors (procedural and official-file loaders)."""

from pyrodis.data.base import GroundTruthDataset
from pyrodis.data.correlated import CorrelatedFactors
from pyrodis.data.dsprites import DSprites
from pyrodis.data.loader import GroundTruthLoader, make_loader
from pyrodis.data.official_files import DatasetFileError
from pyrodis.data.pairs import PairedFactors
from pyrodis.data.registry import DATASETS, get_dataset
from pyrodis.data.shapes3d import Shapes3D

__all__ = [
    "DATASETS",
    "CorrelatedFactors",
    "DSprites",
    "DatasetFileError",
    "GroundTruthDataset",
    "GroundTruthLoader",
    "PairedFactors",
    "Shapes3D",
    "get_dataset",
    "make_loader",
]
