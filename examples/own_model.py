"""Your own Pyro model/guide, trained with a pyrodis ELBO through plain ``pyro.infer.SVI``.

The model below is not a pyrodis class: an MLP VAE with a Laplace prior (heavier tails than
N(0, I)) and a Bernoulli likelihood, with its own site names. It follows the latent-site contract
(a data plate of the dataset's size, a factorised Normal guide site), so β-TCVAE's minibatch
estimators apply to it unchanged. Afterwards the encoder is scored with the MIG.

    python examples/own_model.py --steps 2000
"""

import argparse

import pyro
import pyro.distributions as dist
import torch
from torch import nn

from pyrodis.data import DSprites, make_loader
from pyrodis.inference import TCELBO
from pyrodis.metrics import mig


class Encoder(nn.Module):
    def __init__(self, latent_dim: int):
        super().__init__()
        self.net = nn.Sequential(
            nn.Flatten(), nn.Linear(4096, 512), nn.ReLU(), nn.Linear(512, 2 * latent_dim)
        )

    def forward(self, x):
        loc, log_scale = self.net(x).chunk(2, dim=-1)
        return loc, log_scale.exp()


def make_model_guide(num_data: int, latent_dim: int = 6):
    encoder = Encoder(latent_dim)
    decoder = nn.Sequential(nn.Linear(latent_dim, 512), nn.ReLU(), nn.Linear(512, 4096))

    def model(images, indices):
        pyro.module("decoder", decoder)
        with pyro.plate("points", size=num_data, subsample=indices):
            prior = dist.Laplace(images.new_zeros(len(images), latent_dim), 1.0).to_event(1)
            code = pyro.sample("code", prior)
            logits = decoder(code).view_as(images)
            pyro.sample("pixels", dist.Bernoulli(logits=logits).to_event(3), obs=images)

    def guide(images, indices):
        pyro.module("encoder", encoder)
        with pyro.plate("points", size=num_data, subsample=indices):
            loc, scale = encoder(images)
            pyro.sample("code", dist.Normal(loc, scale).to_event(1))

    return model, guide, encoder


def main(steps: int = 2000, batch_size: int = 64, num_eval: int = 10_000) -> float:
    pyro.set_rng_seed(0)
    data = DSprites()
    model, guide, encoder = make_model_guide(len(data))
    elbo = TCELBO(beta=6.0, estimator="mss")
    svi = pyro.infer.SVI(model, guide, pyro.optim.Adam({"lr": 1e-3}), loss=elbo)
    step = 0
    while step < steps:
        for images, _, indices in make_loader(data, batch_size=batch_size, seed=step):
            svi.step(images, indices)
            step += 1
            if step % 200 == 0 or step == steps:
                terms = ", ".join(f"{k}={v:.1f}" for k, v in elbo.last_terms.items())
                print(f"step {step}: {terms}")
            if step == steps:
                break

    def represent(x):
        with torch.no_grad():
            return encoder(x)[0].numpy()

    scores = mig(represent, data, num_train=num_eval, seed=0)
    print(f"MIG = {scores['mig']:.3f}")
    return scores["mig"]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--batch-size", type=int, default=64)
    args = parser.parse_args()
    main(args.steps, args.batch_size)
