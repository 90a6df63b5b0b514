"""The labelled images of an image dataset as a ground-truth dataset (``docs/data.rst``).

:func:`~pyrodis.data.labels.read_labels` builds a :class:`LabelledImages`: the images that a
labels file names, each with its labels as factor classes.  Its points are observed, not
generated: MIG, DCI, SAP, modularity/explicitness, IRS and the unsupervised scores run on it,
while the BetaVAE and FactorVAE scores, which hold one factor fixed and let the others vary
independently (an intervention on the generator), cannot and say so.
"""

from __future__ import annotations

import numpy as np
import torch

from pyrodis.data.base import ArrayGroundTruth
from pyrodis.seeding import RngLike

__all__ = ["LABELLED_METRICS", "NEEDS_INTERVENTIONS", "LabelledImages"]

#: the metrics that run on observed labels
LABELLED_METRICS = ("mig", "dci", "sap", "modularity", "irs", "unsupervised")
_WHY = (
    "the {} score holds one factor fixed while the other factors vary independently, an "
    "intervention on how the images were made; labels observed on your images cannot do that "
    "(they come with whatever correlations the photographs have)"
)
#: the metrics that need interventions on the factors, with the reason they cannot run
NEEDS_INTERVENTIONS = {"beta_vae": _WHY.format("BetaVAE"), "factor_vae": _WHY.format("FactorVAE")}


class LabelledImages(ArrayGroundTruth):
    """The labelled images of an image dataset, with their labels as factor classes.

    Point ``j`` is image ``image_indices[j]`` of ``images``; ``factors(j)`` its classes (K,).
    Rows are addressed as in :class:`~pyrodis.data.base.ArrayGroundTruth`, but the images stay
    in ``images`` (read when asked). Built by :func:`read_labels` (module docstring).
    """

    def __init__(  # the classes are given: ArrayGroundTruth's discretisation is not redone
        self, images, image_indices, classes, names, values, continuous
    ) -> None:
        self.images = images
        self.image_indices = np.asarray(image_indices, dtype=np.int64)
        self._classes = np.asarray(classes, dtype=np.int64)
        self.factor_names = tuple(names)
        self.factor_values = tuple(np.asarray(v) for v in values)
        self.factor_sizes = tuple(len(v) for v in values)
        self._continuous = tuple(bool(c) for c in continuous)
        self.observation_shape = tuple(images.observation_shape)
        self.file_names = tuple(images.file_names[i] for i in self.image_indices)

    unavailable_metrics = NEEDS_INTERVENTIONS
    applicable_metrics = LABELLED_METRICS

    def __len__(self) -> int:
        return len(self.image_indices)

    def observations_at(self, indices) -> torch.Tensor:
        return self.images.observations(self.image_indices[np.asarray(indices, dtype=np.int64)])

    def index(self, factors) -> np.ndarray:
        raise TypeError(
            "labelled images are not a grid of factor combinations: address them by row "
            "(observations_at(indices), factors(indices), sample_indices(n, rng))"
        )

    def indices_sharing(self, indices, k, values, rng: RngLike = None) -> np.ndarray:
        raise ValueError(
            "cannot draw images that share one factor while the others vary independently: "
            + _WHY.format("BetaVAE and FactorVAE").split(" score ", 1)[1]
            + f". Use the metrics that apply to labels: {', '.join(LABELLED_METRICS)}."
        )

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self.observations_at([int(i)])[0], torch.from_numpy(self.factors(int(i))[0])

    def __repr__(self) -> str:
        cols = ", ".join(f"{n}={s}" for n, s in zip(self.factor_names, self.factor_sizes))
        return f"LabelledImages({len(self)} of {len(self.images)} images; {cols})"
