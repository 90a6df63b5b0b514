"""Tiny trained runs for the explorer's tests (a few seconds each on two CPU cores)."""

from pathlib import Path

import pyro


def train_tiny_run(out: Path, seed: int = 0, steps: int = 60) -> Path:
    """A 4-latent VAE (β = 1) trained ``steps`` steps on dSprites, checkpoints every 20 steps."""
    from pyrodis.runs import resolve_config, train_run

    config = resolve_config(
        preset="vae",
        overrides=[
            "model.latent_dim=4",
            "train.batch_size=32",
            "train.checkpoint_every=20",
            "optim.warmup_steps=10",
            "optim.lr=0.003",
            f"seed={seed}",
        ],
    )
    train_run(out, config, steps=steps, progress=False)
    pyro.clear_param_store()
    return out
