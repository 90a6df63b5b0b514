"""Datasets with known generative factors (procedural and official-file loaders)."""

from pyrodis.data.base import GroundTruthDataset, as_generator

__all__ = ["GroundTruthDataset", "as_generator"]
