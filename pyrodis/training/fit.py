"""``fit``: train a model/guide on data for a number of steps or epochs (a :class:`Trainer`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pyro

from pyrodis.training.history import History
from pyrodis.training.trainer import Trainer

__all__ = ["fit"]


def fit(
    model: Callable,
    guide: Callable,
    elbo: pyro.infer.ELBO,
    data: Any,
    *,
    steps: int | None = None,
    epochs: int | None = None,
    **trainer_kwargs: Any,
) -> History:
    """Train ``model``/``guide`` with ``elbo`` on ``data`` for ``steps`` steps or ``epochs`` epochs.

    A convenience over :class:`Trainer` (which takes the same keyword arguments:
    ``batch_size``, ``lr``, ``optim``, ``schedule``, ``clip_norm``, ``seed``, ``log_every``,
    ``callbacks``, ``progress``, ``model_args``). Returns the :class:`History` of the terms.

    Example::

        pyro.set_rng_seed(0)
        vae = pyrodis.models.VAE(num_data=len(data))
        history = fit(vae.model, vae.guide, TCELBO(beta=6.0), data, steps=10_000)
    """
    if (steps is None) == (epochs is None):
        raise ValueError("give exactly one of steps= or epochs=")
    trainer = Trainer(model, guide, elbo, data, **trainer_kwargs)
    if epochs is not None:
        steps = epochs * trainer.steps_per_epoch
    return trainer.run(steps)
