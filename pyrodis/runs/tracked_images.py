"""What the trackers see of the model itself: pictures at each checkpoint and the KL per latent
at evaluation (``docs/runs.rst``, Tracking).

Both are cheap and leave training untouched: a fixed handful of images of the evaluation data,
decoded without gradients in the model's own mode, with every random generator (Python, NumPy,
torch, and the accelerator's) restored afterwards, so a tracked run's losses and checkpoints are
those of an untracked one.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import pyro.util
import torch

from pyrodis.data import as_source
from pyrodis.diagnostics.traversals import traversal_images
from pyrodis.training.trackers import Tracker, image_grid

__all__ = ["CheckpointImages", "kl_per_latent"]


@contextlib.contextmanager
def untouched_generators(device: torch.device) -> Iterator[None]:
    """Run a block without moving any random generator of this process."""
    state = pyro.util.get_rng_state()
    devices = [device] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        try:
            yield
        finally:
            pyro.util.set_rng_state(state)


def _encode(vae: Any, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    device = next(vae.parameters()).device
    return vae.encode(x.to(device=device, dtype=torch.float32))


def kl_per_latent(vae: Any, images: torch.Tensor) -> np.ndarray:
    """Mean KL(q(z_j | x) ‖ N(0, 1)) over ``images``, per latent j, in nats (closed form for
    the Gaussian guide of :class:`~pyrodis.models.VAE`)."""
    with torch.no_grad():
        loc, scale = _encode(vae, images)
        kl = 0.5 * (loc**2 + scale**2 - 1.0) - torch.log(scale)
    return kl.mean(0).double().cpu().numpy()


class CheckpointImages:
    """A training callback: at each checkpoint, the reconstructions of ``num_images`` fixed
    evaluation images (inputs above, reconstructions below) and the latent traversals of the
    first one (one row per latent, most informative first, each swept over ``value_range``).

    Args:
        vae: the model being trained (its ``encode`` and ``decode``).
        data: the evaluation data (anything :func:`pyrodis.data.as_source` takes).
        trackers: where the pictures go.
    """

    def __init__(
        self,
        vae: Any,
        data: Any,
        trackers: Sequence[Tracker],
        *,
        num_images: int = 8,
        num_steps: int = 7,
        value_range: tuple[float, float] = (-2.0, 2.0),
    ) -> None:
        self.vae, self.trackers = vae, list(trackers)
        self.num_steps, self.value_range = num_steps, value_range
        source = as_source(data)
        n = int(source.num_data)
        picked = np.unique(np.linspace(0, n - 1, min(num_images, n)).round().astype(int))
        self.images = source.observations(picked)

    def pictures(self) -> dict[str, np.ndarray]:
        """``{"reconstructions": ..., "traversals": ...}`` as ``(H, W, 3)`` uint8 pictures."""
        vae, x = self.vae, self.images
        with torch.no_grad():
            loc, _ = _encode(vae, x)
            recon = vae.decode(loc).float().cpu()
        pairs = torch.stack([x.float().cpu(), recon])  # (2, n, C, H, W)
        order = np.argsort(-kl_per_latent(vae, x), kind="stable")
        low, high = self.value_range
        values = np.tile(np.linspace(low, high, self.num_steps), (len(order), 1))
        sweeps = traversal_images(vae.decode, loc[0].float(), order, values).float().cpu()
        return {"reconstructions": image_grid(pairs), "traversals": image_grid(sweeps)}

    def __call__(self, trainer: Any, *_: Any) -> None:
        live = [t for t in self.trackers if t.failed is None]
        if not live or not hasattr(self.vae, "decode"):
            return
        device = next(self.vae.parameters()).device
        try:
            with untouched_generators(device):
                pictures = self.pictures()
        except Exception as err:  # a picture never stops training
            for tracker in live:
                tracker.stop(err)
            return
        for tracker in live:
            tracker.log_images(trainer.step, pictures)
