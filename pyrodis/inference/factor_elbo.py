"""FactorVAE: the ELBO plus γ·TC, the total correlation estimated by a discriminator.

Kim & Mnih (2018) minimise, per data point::

    R + KL + γ · TC(z),    TC(z) ≈ E_q(z)[log D(z) − log(1 − D(z))] = E[logit_0(z) − logit_1(z)]

where the discriminator D (:class:`~pyrodis.inference.discriminator.Discriminator`) is trained
alongside, by cross-entropy, to tell samples of q(z) (class 0) from samples of Π_j q(z_j)
(class 1) made by :func:`~pyrodis.inference.tc_estimators.permute_dims` (each dimension permuted
independently ACROSS the batch).

How it lives inside ``SVI``:

- The discriminator and its optimiser (paper: Adam lr 1e-4, betas (0.5, 0.9)) belong to this ELBO,
  outside Pyro's param store: ``SVI`` never sees them, and the VAE term is computed with the
  discriminator's parameters frozen, so the VAE gradient never leaks into them.
- ``loss_and_grads`` (one ``svi.step``) first back-propagates the VAE loss, THEN updates the
  discriminator (zero grad, backward, step), then ``SVI`` steps the VAE: no parameter that a
  pending backward pass needs is modified in place (the error three public ports hit).
- Independent samples for the discriminator (the paper draws a second batch for the permuted
  samples). The guide samples of the training step (detached) are the joint samples; the
  permuted samples come from other data points, chosen by ``product_samples``:

  ``"halves"`` (default): the batch is split in two halves A and B; D is trained on A (joint)
  against ``permute_dims(B)`` (product): fresh samples, independent data, no extra forward pass;
  D sees B/2 + B/2 samples. The VAE term still uses the whole batch.

  ``"previous"``: D is trained on the whole batch (joint) against ``permute_dims`` of the
  previous training step's samples (product): independent data and a full batch for both
  classes, at the price of samples one encoder update old; the first step has no previous
  batch and does not update D. The previous samples are part of :meth:`FactorELBO.state_dict`.

Reference: Kim & Mnih, "Disentangling by factorising", ICML 2018.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import torch
from torch.nn import functional as F

from pyrodis.inference.base import DisentanglingELBO, check_hyperparameter
from pyrodis.inference.discriminator import PAPER_HIDDEN_SIZES, Discriminator
from pyrodis.inference.elbo_parts import ELBOParts
from pyrodis.inference.tc_estimators import permute_dims

__all__ = ["FactorELBO"]


class FactorELBO(DisentanglingELBO):
    """FactorVAE loss with its discriminator.

    Args:
        gamma: weight γ of the TC term (≥ 0; paper 6.4–10 on dSprites).
        discriminator: a module ``z (B, D) → logits (B, 2)``; ``None`` builds the paper's MLP
            (``hidden_sizes``) on the first call, when D is known.
        hidden_sizes: hidden widths of the default discriminator.
        lr, betas: the discriminator's Adam settings (paper: 1e-4, (0.5, 0.9)).
        optimizer: any torch optimiser for the discriminator, as a factory
            ``params -> torch.optim.Optimizer`` (e.g. ``lambda p: torch.optim.SGD(p, lr=0.01)``);
            ``None`` builds the paper's Adam from ``lr`` and ``betas``.
        product_samples: where the permuted samples come from: ``"halves"`` or ``"previous"``
            (see the module docstring).
        seed: seed of the permutations (``None``: torch's global generator).
        latent_sites: as for every pyrodis ELBO (:class:`~pyrodis.inference.DisentanglingELBO`).
        data_plate: as for every pyrodis ELBO.
        **elbo_kwargs: as for every pyrodis ELBO.

    ``last_terms``: ``loss``, ``recon``, ``kl``, ``tc`` (discriminator estimate), and after a
    training step ``disc_loss`` and ``disc_acc`` (accuracy on its training samples before the
    update; 0.5 means it has learnt nothing). :meth:`state_dict` holds the discriminator and its
    optimiser.
    """

    def __init__(
        self,
        gamma: float = 6.4,
        discriminator: torch.nn.Module | None = None,
        hidden_sizes: Sequence[int] = PAPER_HIDDEN_SIZES,
        lr: float = 1e-4,
        betas: tuple[float, float] = (0.5, 0.9),
        optimizer: Callable[[Iterable[torch.nn.Parameter]], torch.optim.Optimizer] | None = None,
        product_samples: str = "halves",
        seed: int | None = None,
        latent_sites=None,
        data_plate: str | None = None,
        **elbo_kwargs: Any,
    ):
        super().__init__(latent_sites=latent_sites, data_plate=data_plate, **elbo_kwargs)
        self.gamma = check_hyperparameter("gamma", gamma)
        self.lr = check_hyperparameter("lr", lr, allow_zero=False)
        self.betas = tuple(float(b) for b in betas)
        self.hidden_sizes = tuple(int(h) for h in hidden_sizes)
        if product_samples not in ("halves", "previous"):
            raise ValueError(
                f"product_samples must be 'halves' or 'previous', got {product_samples!r}"
            )
        self.product_samples = product_samples
        self.optimizer_factory = optimizer
        # halves of at least 2 points, so that a permutation can change something
        self.min_batch_size = 4 if product_samples == "halves" else 2
        self._previous: torch.Tensor | None = None
        self.discriminator = discriminator
        self.optimizer: torch.optim.Optimizer | None = None
        if discriminator is not None:
            self._make_optimizer()
        self.generator = None if seed is None else torch.Generator().manual_seed(seed)
        self._samples: torch.Tensor | None = None

    def _make_optimizer(self) -> None:
        params = self.discriminator.parameters()
        if self.optimizer_factory is not None:
            self.optimizer = self.optimizer_factory(params)
        else:
            self.optimizer = torch.optim.Adam(params, lr=self.lr, betas=self.betas)

    def _build(self, latent_dim: int, device: torch.device) -> None:
        if self.discriminator is None:
            self.discriminator = Discriminator(latent_dim, self.hidden_sizes)
            self._make_optimizer()
        self.discriminator.to(device)

    def _tc_logits(self, z: torch.Tensor) -> torch.Tensor:
        """Discriminator logits with its parameters frozen (gradient flows to z only)."""
        params = list(self.discriminator.parameters())
        flags = [p.requires_grad for p in params]
        for p in params:
            p.requires_grad_(False)
        try:
            return self.discriminator(z)
        finally:
            for p, flag in zip(params, flags):
                p.requires_grad_(flag)

    def _latent_loss(self, parts: ELBOParts) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        z = parts.latents()
        kept = parts.kept()  # masked points: no term, no sample for the discriminator
        z = z if kept is None else z[kept]
        self._build(z.shape[-1], z.device)
        tc = parts.scatter(self._tc_logits(z) @ z.new_tensor([1.0, -1.0]))
        if torch.is_grad_enabled():  # a training call: keep the samples for the update
            self._samples = z.detach()
        return parts.kl + self.gamma * parts.to_dataset(tc), {"tc": tc.mean()}

    def _after_step(self) -> None:
        if self._samples is None:
            return
        z, self._samples = self._samples, None
        if len(z) < self.min_batch_size:  # too few unmasked points to compare
            return
        if self.product_samples == "halves":
            half = z.shape[0] // 2
            joint, source = z[:half], z[half : 2 * half]
        else:
            joint, source, self._previous = z, self._previous, z
            if source is None:
                return
        product = permute_dims(source, self.generator)
        logits = self.discriminator(torch.cat([joint, product]))
        labels = torch.cat(
            [z.new_zeros(len(joint), dtype=torch.long), z.new_ones(len(product), dtype=torch.long)]
        )
        loss = F.cross_entropy(logits, labels)
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        accuracy = (logits.argmax(-1) == labels).float().mean()
        self.last_terms["disc_loss"] = loss.item()
        self.last_terms["disc_acc"] = accuracy.item()

    def state_dict(self) -> dict[str, Any]:
        state = super().state_dict()
        if self.discriminator is not None:
            state["discriminator"] = self.discriminator.state_dict()
            state["optimizer"] = self.optimizer.state_dict()
            state["latent_dim"] = int(getattr(self.discriminator, "latent_dim", 0))
        if self._previous is not None:
            state["previous_samples"] = self._previous.clone()
        if self.generator is not None:
            state["generator"] = self.generator.get_state()
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        self._previous = state.get("previous_samples")
        if self.generator is not None and "generator" in state:
            self.generator.set_state(state["generator"])
        if "discriminator" not in state:
            return
        if self.discriminator is None:
            if not state.get("latent_dim"):
                raise ValueError(
                    "the state holds a custom discriminator: construct FactorELBO with the same "
                    "discriminator module before load_state_dict"
                )
            self.discriminator = Discriminator(state["latent_dim"], self.hidden_sizes)
            self._make_optimizer()
        self.discriminator.load_state_dict(state["discriminator"])
        self.optimizer.load_state_dict(state["optimizer"])
