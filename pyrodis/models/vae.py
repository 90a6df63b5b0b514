"""The VAE as a Pyro model/guide pair (Kingma & Welling 2014) following the latent-site contract.

::

    model:  with plate("data", size=N, subsample=indices):
                z ~ Normal(0, I)                       # site "z", (B, D), event (D,)
                x ~ p(x | decoder(z))                  # site "x", event (C, H, W)
    guide:  with plate("data", size=N, subsample=indices):
                z ~ Normal(loc(x), scale(x))           # factorised, .to_event(1)

The plate scales every per-data-point term by N/B, so the ELBO is the full-dataset ELBO;
the disentangling ELBOs of :mod:`pyrodis.inference` read N from that plate.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pyro
import pyro.distributions as dist
import torch
from pyro.nn import PyroModule, pyro_method
from torch import nn

from pyrodis.models.likelihoods import get_likelihood
from pyrodis.models.networks import build_networks
from pyrodis.models.param_names import claim_param_names

__all__ = ["VAE"]


class VAE(PyroModule):
    """A VAE with N(0, I) prior, a factorised Normal guide and a named likelihood.

    Args:
        latent_dim: D.
        image_shape: ``(C, H, W)`` of the observations.
        likelihood: ``"bernoulli"``, ``"gaussian"`` or ``"laplace"``
            (see :mod:`pyrodis.models.likelihoods`).
        architecture: ``"locatello"``, ``"burgess"`` or ``"mlp"``
            (see :mod:`pyrodis.models.networks`); ignored if both networks are given.
        num_data: N, the dataset size used by the data plate; ``None`` uses the batch size
            (full-batch training: the disentangling ELBOs warn about it).
        encoder: optional module ``x -> (loc, scale)``, each ``(B, D)``.
        decoder: optional module ``z -> unconstrained output (B, C, H, W)``.
        likelihood_scale: fixed scale (or initial, with ``learn_scale``) of gaussian/laplace.
        learn_scale: learn the gaussian/laplace scale (one per channel).
        hidden: hidden sizes of the ``"mlp"`` architecture.
        precision: ``"32"`` or ``"bf16"``: the networks run in bfloat16 (autocast) where that is
            safe, their outputs are cast back to float32, so distributions, ELBO terms and the
            TC estimators (a logsumexp over (B, B, D) is wrong in bf16) stay in float32.

    Example::

        vae = VAE(latent_dim=10, image_shape=(1, 64, 64), num_data=len(dataset))
        svi = SVI(vae.model, vae.guide, Adam({"lr": 1e-4}), loss=BetaELBO(beta=4.0))
        svi.step(images, indices)
    """

    def __init__(
        self,
        latent_dim: int = 10,
        image_shape: Sequence[int] = (1, 64, 64),
        likelihood: str = "bernoulli",
        architecture: str = "locatello",
        num_data: int | None = None,
        encoder: nn.Module | None = None,
        decoder: nn.Module | None = None,
        likelihood_scale: float | None = None,
        learn_scale: bool = False,
        hidden: Sequence[int] = (1200, 1200),
        precision: str = "32",
    ):
        super().__init__()
        if precision not in ("32", "bf16"):
            raise ValueError(f"precision must be '32' or 'bf16', got {precision!r}")
        self.precision = precision
        if num_data is not None and num_data < 1:
            raise ValueError(f"num_data must be the dataset size (>= 1), got {num_data}")
        self.latent_dim = int(latent_dim)
        self.image_shape = tuple(int(s) for s in image_shape)
        self.num_data = num_data
        self.likelihood_name = likelihood
        self.architecture = architecture
        if encoder is None or decoder is None:
            enc, dec = build_networks(architecture, self.image_shape, self.latent_dim, hidden)
            encoder = enc if encoder is None else encoder
            decoder = dec if decoder is None else decoder
        self.encoder = encoder
        self.decoder = decoder
        self.likelihood = get_likelihood(
            likelihood, self.image_shape[0], likelihood_scale, learn_scale
        )

    def _plate(self, x: torch.Tensor, indices: torch.Tensor | None):
        batch = x.shape[0]
        size = self.num_data if self.num_data is not None else batch
        if indices is None:
            indices = torch.arange(batch, device=x.device)
        return pyro.plate("data", size=size, subsample=indices)

    @pyro_method
    def model(self, x: torch.Tensor, indices: torch.Tensor | None = None) -> None:
        """Generative model: ``z ~ N(0, I)``, ``x ~ p(x | decoder(z))`` inside the data plate."""
        claim_param_names(self)  # each instance owns its parameters
        with self._plate(x, indices):
            zeros = x.new_zeros(x.shape[0], self.latent_dim)
            z = pyro.sample("z", dist.Normal(zeros, 1.0).to_event(1))
            pyro.sample("x", self.likelihood(self.run_network(self.decoder, z)), obs=x)

    @pyro_method
    def guide(self, x: torch.Tensor, indices: torch.Tensor | None = None) -> None:
        """Amortised guide: ``z ~ Normal(encoder(x))``, factorised over the D dimensions."""
        claim_param_names(self)  # each instance owns its parameters
        with self._plate(x, indices):
            loc, scale = self.encode(x)
            pyro.sample("z", dist.Normal(loc, scale).to_event(1))

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The guide's ``(loc, scale)``, each ``(B, D)``."""
        return self.run_network(self.encoder, x)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """The mean image ``(B, C, H, W)`` in [0, 1] of p(x | z)."""
        return self.likelihood.mean(self.run_network(self.decoder, z))

    def run_network(self, network: nn.Module, inputs: torch.Tensor):
        """``network(inputs)`` at the model's precision; outputs always float32 (or the input's
        floating dtype in full precision)."""
        if self.precision == "32":
            return network(inputs)
        device_type = inputs.device.type
        with torch.autocast(device_type, dtype=torch.bfloat16):
            out = network(inputs)
        return tuple(o.float() for o in out) if isinstance(out, tuple) else out.float()

    def representation(
        self, kind: str = "mean", batch_size: int = 256, seed: int = 0
    ) -> Callable[[torch.Tensor], np.ndarray]:
        """A representation function ``x (n, C, H, W) -> codes (n, D)`` (numpy float64).

        ``kind="mean"`` returns the guide means (the usual choice for metrics);
        ``kind="sample"`` draws one z per image (seeded by ``seed``, fresh each call).
        Runs in batches of ``batch_size``, without gradients.
        """
        if kind not in ("mean", "sample"):
            raise ValueError(f"kind must be 'mean' or 'sample', got {kind!r}")

        def represent(x: torch.Tensor) -> np.ndarray:
            x = torch.as_tensor(x)
            param = next(self.parameters(), None)
            device = param.device if param is not None else x.device
            gen = torch.Generator(device=device).manual_seed(seed)
            out = []
            with torch.no_grad():
                for start in range(0, x.shape[0], batch_size):
                    xb = x[start : start + batch_size].to(device=device, dtype=torch.float32)
                    loc, scale = self.encode(xb)
                    if kind == "sample":
                        noise = torch.randn(loc.shape, generator=gen, device=device)
                        loc = loc + scale * noise
                    out.append(loc.double().cpu().numpy())
            if not out:
                return np.zeros((0, self.latent_dim))
            return np.concatenate(out, axis=0)

        return represent
