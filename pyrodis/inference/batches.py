"""Training minibatches as a pure function of the global step.

``StepBatches(data, batch_size, seed).batch(step)`` returns the same ``(x, indices)`` for the same
step in any process, so a run resumed at step ``t`` sees exactly the batches an uninterrupted run
would have seen, without replaying the skipped ones. Epoch ``e`` visits the data in the order of
``numpy.random.default_rng([seed, e]).permutation(N)`` and drops the last partial batch (the
minibatch TC estimators need full batches).

``data`` may be a ground-truth dataset (observations rendered per batch), a dataset that samples
its training points from a joint distribution of the factors (``draw_indices(n, rng)``, as
:class:`~pyrodis.data.CorrelatedFactors` does; every step draws a fresh batch with
``default_rng([seed, step])``), a tensor whose first axis indexes data points, or
any map-style ``torch.utils.data.Dataset`` (items or their first element are observations).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from pyrodis.data.loader import epoch_permutation


class StepBatches:
    """Deterministic minibatches ``(x, indices)`` indexed by the global step."""

    def __init__(self, data: Any, batch_size: int, seed: int = 0) -> None:
        self.data = data
        self.num_data = len(data)
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        if batch_size > self.num_data:
            raise ValueError(
                f"batch_size {batch_size} exceeds the {self.num_data} data points; "
                "use a smaller batch_size"
            )
        self.batch_size = batch_size
        self.seed = seed
        self.steps_per_epoch = self.num_data // batch_size
        self._epoch: int | None = None
        self._perm: np.ndarray | None = None

    def indices(self, step: int) -> np.ndarray:
        """Data-point indices of the batch of ``step``, (B,) int64."""
        draw = getattr(self.data, "draw_indices", None)
        if draw is not None:
            return np.asarray(draw(self.batch_size, np.random.default_rng([self.seed, step])))
        epoch, pos = divmod(step, self.steps_per_epoch)
        if epoch != self._epoch:
            self._perm = epoch_permutation(self.num_data, self.seed, epoch)
            self._epoch = epoch
        return self._perm[pos * self.batch_size : (pos + 1) * self.batch_size]

    def batch(self, step: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Observations (B, ...) and their indices (B,) for ``step``."""
        idx = self.indices(step)
        data = self.data
        if isinstance(data, torch.Tensor):
            x = data[torch.from_numpy(idx)]
        elif hasattr(data, "observations") and hasattr(data, "factors"):
            x = data.observations(data.factors(idx))
        else:
            items = [data[int(i)] for i in idx]
            x = torch.stack([it[0] if isinstance(it, (tuple, list)) else it for it in items])
        return x, torch.from_numpy(np.asarray(idx, dtype=np.int64))
