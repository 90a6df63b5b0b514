"""Datasets with known generative factors (procedural and official-file loaders)."""

from pyrodis.data.base import ArrayGroundTruth, GroundTruthDataset
from pyrodis.data.batches import BatchRule, epoch_permutation
from pyrodis.data.cars3d import Cars3D
from pyrodis.data.correlated import CorrelatedFactors
from pyrodis.data.dsprites import DSprites
from pyrodis.data.dsprites_variants import ColorDSprites, NoisyDSprites
from pyrodis.data.image_arrays import ImageArray
from pyrodis.data.image_files import DATA_PATH_HELP
from pyrodis.data.image_paths import open_images
from pyrodis.data.images import ImageDataset, ImageFolder
from pyrodis.data.labelled import LABELLED_METRICS, NEEDS_INTERVENTIONS, LabelledImages
from pyrodis.data.labels import read_labels
from pyrodis.data.loader import GroundTruthLoader, make_loader
from pyrodis.data.mpi3d import MPI3D
from pyrodis.data.official_files import DatasetFileError
from pyrodis.data.pairs import PairedFactors
from pyrodis.data.registry import DATASETS, get_dataset, list_datasets
from pyrodis.data.scream_dsprites import ScreamDSprites
from pyrodis.data.shapes3d import Shapes3D
from pyrodis.data.smallnorb import SmallNORB
from pyrodis.data.sources import ObservationSource, TensorSource, as_source

__all__ = [
    "DATASETS",
    "ArrayGroundTruth",
    "BatchRule",
    "ObservationSource",
    "TensorSource",
    "as_source",
    "epoch_permutation",
    "Cars3D",
    "ColorDSprites",
    "CorrelatedFactors",
    "DSprites",
    "DatasetFileError",
    "GroundTruthDataset",
    "GroundTruthLoader",
    "MPI3D",
    "NoisyDSprites",
    "PairedFactors",
    "ScreamDSprites",
    "Shapes3D",
    "SmallNORB",
    "get_dataset",
    "list_datasets",
    "DATA_PATH_HELP",
    "ImageArray",
    "ImageDataset",
    "ImageFolder",
    "LABELLED_METRICS",
    "LabelledImages",
    "NEEDS_INTERVENTIONS",
    "open_images",
    "read_labels",
    "make_loader",
]
