"""The large-reference MI / TC / dimension-wise KL at each checkpoint, beside the training
estimate (``docs/objectives.rst``, "When the progress bar surprises you").

β-TCVAE trains on a minibatch estimate of the total correlation (``tc_mss``, ``tc_mws``,
``tc_bank`` in the progress bar and ``log.csv``): with a sharp encoder the batch rarely puts
density on a sample's code and the estimate runs several nats low, often below zero. At each
checkpoint :class:`CheckpointEstimate` encodes ``points`` fixed evaluation images and computes the
decomposition of :func:`pyrodis.diagnostics.kl_decomposition` with a 1,024-point reference set
(the run report's estimator): ``mi_ref``, ``tc_ref`` and ``dwkl_ref`` join that step's row of
the history, so they are in ``log.csv``, the checkpoint and the progress bar.

It leaves training untouched: the images are encoded without gradients in the model's eval mode,
and every random generator is restored afterwards, so a run's losses and checkpoints are those
of a run without it (and a resumed run continues exactly). The points are the same at every
checkpoint (drawn with the run's seed), so the column is a trajectory, not noise between draws.
Cost: one encoder pass over ``points`` images and ``points × 1,024 × D`` log-densities, about a
second on a CPU for 2,000 points.
"""

from __future__ import annotations

from typing import Any

from pyrodis.diagnostics import AggregatePosterior
from pyrodis.runs.tracked_images import untouched_generators
from pyrodis.runs.trained_run import single_image_pair

__all__ = ["CheckpointEstimate", "REFERENCE_SIZE"]

#: References of the checkpoint estimate (the run report's default).
REFERENCE_SIZE = 1024


class CheckpointEstimate:
    """A training callback: the large-reference ``mi_ref``, ``tc_ref``, ``dwkl_ref`` (nats) of
    ``points`` evaluation images, attached to the history row of the step it runs at.

    Args:
        vae: the model being trained (its single-image guide and model).
        data: the evaluation data (a dataset :meth:`AggregatePosterior.from_guide` takes).
        points: images encoded (at most all of them; at least 2).
        seed: seeds the choice of images and the decomposition's draws.
    """

    def __init__(self, vae: Any, data: Any, points: int = 2000, seed: int = 0) -> None:
        if points < 2:
            raise ValueError(f"points must be at least 2, got {points}")
        self.vae, self.data = vae, data
        self.points = min(int(points), len(data))
        self.seed = int(seed)

    def estimate(self) -> dict[str, float]:
        """``{"mi_ref", "tc_ref", "dwkl_ref"}`` of the model as it is now."""
        model, guide = single_image_pair(self.vae)
        device = next(self.vae.parameters()).device
        agg = AggregatePosterior.from_guide(
            guide, self.data, num_points=self.points, seed=self.seed, model=model, device=device
        )
        dec = agg.decomposition(reference_size=REFERENCE_SIZE, seed=self.seed)
        return {f"{term}_ref": float(dec[term]) for term in ("mi", "tc", "dwkl")}

    def __call__(self, trainer: Any, *_: Any) -> None:
        was_training = getattr(self.vae, "training", False)
        device = next(self.vae.parameters()).device
        try:
            self.vae.eval()
            with untouched_generators(device):
                values = self.estimate()
        finally:
            self.vae.train(was_training)
        trainer.history.annotate(trainer.step, values)
