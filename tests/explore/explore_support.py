"""Tiny trained runs for the explorer's tests (a few seconds each on two CPU cores)."""

from pathlib import Path

import pyro


def train_tiny_run(out: Path, seed: int = 1, steps: int = 80) -> Path:
    """A 4-latent VAE (β = 1) trained ``steps`` steps on dSprites, checkpoints every 20 steps.

    At this budget some seeds switch every latent off (KL < 0.01); seeds 1 and 2 keep all four
    active (KL 0.04-0.28 nats), which the matching and slider tests need."""
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


def scripted_vae(seed: int = 0, latent_dim: int = 4):
    """An untrained conv VAE as a script builds one, with the scale of its code layers raised so
    that the mean codes vary with the image and the decoder answers the code (at the default
    initialisation both are almost constant), and 300 smooth random images for it."""
    import torch

    from pyrodis.models import VAE

    torch.manual_seed(seed)
    vae = VAE(latent_dim=latent_dim, image_shape=(1, 64, 64), architecture="locatello").eval()
    with torch.no_grad():
        vae.encoder.head.weight[:latent_dim] *= 300
        vae.encoder.head.bias[:latent_dim] = 0
        vae.decoder.body[0][0].weight *= 30
    gen = torch.Generator().manual_seed(seed)
    coarse = torch.rand(300, 1, 8, 8, generator=gen)
    images = torch.nn.functional.interpolate(coarse, size=64, mode="bilinear")
    return vae, images


def permuted_copy(vae, perm, sign):
    """A copy of ``vae`` whose latent k is ``sign[k]`` times latent ``perm[k]`` of ``vae``: the
    same model up to a permutation and signs of its latents (decode(z') = decode(z))."""
    import copy

    import torch

    vae = copy.deepcopy(vae)
    d = len(perm)
    s = torch.tensor(sign, dtype=torch.float32)
    with torch.no_grad():
        head = vae.encoder.head
        head.weight[:d] = head.weight[:d][perm] * s[:, None]
        head.bias[:d] = head.bias[:d][perm] * s
        head.weight[d:] = head.weight[d:][perm]
        head.bias[d:] = head.bias[d:][perm]
        first = vae.decoder.body[0][0]
        first.weight[:] = first.weight[:, perm] * s[None, :]
    return vae
