"""A total-correlation estimator whose reference set is not the gradient batch: a bank of recent
posterior parameters (``TCELBO(estimator="bank")``, ``docs/objectives.rst``).

The minibatch estimators (:mod:`pyrodis.inference.tc_estimators`) estimate the aggregate posterior
q(z) = (1/N) Σ_n q(z | x_n) at a sample z_i ~ q(z | x_i) from the other B − 1 points of the batch.
The estimate of q(z_i) is unbiased, its logarithm is not: with a sharp encoder the other points
rarely put density on z_i, log q(z_i) comes out too low by up to log(N / B), and the reported TC
is often negative. :class:`ReferenceBank` keeps the posterior parameters of the last K points
seen in training (detached) and uses them, with the batch, as the reference set.

Stratified estimate (one stratum per data point's own term): split the mixture into the sample's
own component and the mean of the N − 1 others::

    q(z_i) = (1/N) q(z_i | x_i) + ((N − 1)/N) · mean_{n ≠ i} q(z_i | x_n)

The first term is computed exactly; the mean over the other points is estimated by the mean over
a reference set S_i of R others: the batch's other B − 1 points (fresh parameters, with gradient,
as in MSS) and the bank's entries whose dataset index is not in the batch (R_bank of them, so
R = B − 1 + R_bank)::

    q̂(z_i) = (1/N) q(z_i | x_i) + ((N − 1)/(N·R)) · Σ_{j ∈ S_i} q(z_i | x_j)

and Π_d q̂(z_{i,d}) per dimension with the same weights (:func:`bank_log_qz`). A bank entry is
dropped while its point is in the batch, so no point counts twice and a sample's own point never
enters the "others"; a point pushed again replaces its older entry. When the bank holds every
other point with current parameters, q̂ is the exact aggregate posterior (the tests check this).
With an empty bank (the first step) S_i is the batch: the MSS stratification with uniform weights.

Gradient: through z_i (every term), the batch's own q(z_i | x_i) and the batch's other points'
q(z_i | x_j) (as in MSS); the bank is detached (its entries are constants).

Staleness: an entry was computed by the encoder of up to ⌈K/B⌉ steps ago (64 steps for K = 4,096,
B = 64); the bank is refreshed FIFO, B entries per training step (:meth:`ReferenceBank.push`
after the gradient step, never on plain loss evaluations).

Cost per step: B·(B − 1 + R_bank)·D log-densities (MSS: B²·D), e.g. 64 × 4,159 × 10 ≈ 2.7 M for
K = 4,096, B = 64, D = 10, and a (B, R_bank, D) block kept for the backward pass (≈ 10 MB in
float32). Memory of the bank: K·D·P numbers for P parameters per dimension (2 for a Normal: loc and
scale) plus K int64 indices: 0.4 MB for K = 4,096, D = 10.

Reference: the stratified estimate is that of Chen et al. (2018, Appendix C.2) with the reference
set of :func:`pyrodis.diagnostics.kl_decomposition`; a bank of recent encodings is the memory bank
of contrastive learning (Wu et al. 2018; He et al. 2020, MoCo).
"""

from __future__ import annotations

import math
from typing import Any

import torch
from pyro.poutine.messenger import Messenger
from pyro.poutine.subsample_messenger import _Subsample
from torch.distributions import Distribution, TransformedDistribution, constraints

from pyrodis.inference.elbo_parts import ELBOParts

__all__ = ["DEFAULT_BANK_SIZE", "ReferenceBank", "SubsampleRecorder", "bank_log_qz"]

#: Default K, the number of points the bank holds.
DEFAULT_BANK_SIZE = 4096


def bank_log_qz(
    log_q_batch: torch.Tensor, log_q_bank: torch.Tensor, dataset_size: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Stratified estimates of ``log q(z_i)`` and ``Σ_d log q(z_{i,d})`` (module docstring).

    Args:
        log_q_batch: ``(B, B, D)``, ``[i, j, d] = log q(z_{i,d} | x_j)`` over the batch.
        log_q_bank: ``(B, R_bank, D)``, ``log q(z_{i,d} | bank entry r)``; ``R_bank`` may be 0.
        dataset_size: N ≥ B.

    Returns:
        two ``(B,)`` tensors.
    """
    batch, dim = log_q_batch.shape[0], log_q_batch.shape[-1]
    if batch < 2 or dataset_size < batch:
        raise ValueError(
            f"the bank estimator needs a batch of at least 2 points and dataset_size N >= B; got "
            f"B={batch}, N={dataset_size}: pass the true dataset size (the data plate's size=)"
        )
    if log_q_bank.shape[0] != batch or log_q_bank.shape[-1] != dim:
        raise ValueError(
            f"log_q_bank must be (B, R, D) = ({batch}, R, {dim}), got {tuple(log_q_bank.shape)}"
        )
    refs = batch - 1 + log_q_bank.shape[1]
    own = -math.log(dataset_size)
    other = math.log(dataset_size - 1) - math.log(dataset_size) - math.log(refs)
    log_w = log_q_batch.new_full((batch, batch), other)  # (B, B)
    log_w.fill_diagonal_(own)
    joint = torch.cat([log_w + log_q_batch.sum(-1), other + log_q_bank.sum(-1)], dim=1)
    per_dim = torch.cat([log_w.unsqueeze(-1) + log_q_batch, other + log_q_bank], dim=1)
    return torch.logsumexp(joint, dim=1), torch.logsumexp(per_dim, dim=1).sum(-1)


class SubsampleRecorder(Messenger):
    """Records the subsample indices of every plate run inside it: ``indices[plate_name]``.

    The ELBO's traces have their subsample sites pruned; the bank needs each batch point's
    dataset index (``pyro.plate(name, size=N, subsample=indices)``) to tell points apart.
    """

    def __init__(self) -> None:
        super().__init__()
        self.indices: dict[str, torch.Tensor] = {}

    def _pyro_post_sample(self, msg) -> None:
        if isinstance(msg["fn"], _Subsample) and msg["name"] not in self.indices:
            self.indices[msg["name"]] = msg["value"]


def _parameters(site: str, dist: Distribution) -> dict[str, torch.Tensor]:
    """The (B, D) parameters that rebuild ``dist`` (of a TransformedDistribution: its base's)."""
    base = dist.base_dist if type(dist) is TransformedDistribution else dist
    try:
        return {k: getattr(base, k).expand(base.batch_shape) for k in base.arg_constraints}
    except (AttributeError, NotImplementedError, RuntimeError) as err:
        raise ValueError(
            f"latent site {site!r}: estimator='bank' cannot read the parameters of its "
            f"{type(base).__name__} guide distribution ({err}); use estimator='mss'"
        ) from None


def _rebuild(site: str, template: Distribution, params: dict[str, torch.Tensor]) -> Distribution:
    """``template``'s family (and transforms) with the bank's ``params`` (R, D)."""
    plain = type(template) is not TransformedDistribution
    base = template if plain else template.base_dist
    try:
        out = type(base)(**params, validate_args=False)
    except (TypeError, ValueError, RuntimeError) as err:
        raise ValueError(
            f"latent site {site!r}: estimator='bank' cannot rebuild its {type(base).__name__} "
            f"guide distribution from stored parameters ({err}); use estimator='mss'"
        ) from None
    return out if plain else TransformedDistribution(out, template.transforms, validate_args=False)


def _cross_log_density(ref: Distribution, z: torch.Tensor) -> torch.Tensor:
    """``[i, r, d] = log ref_{r,d}(z_{i,d})``, (B, R, D); −inf outside the support, and no
    gradient leaks from the out-of-support evaluations (the reference is detached)."""
    z = z.unsqueeze(1).expand(-1, ref.batch_shape[0], -1)
    if ref.support is constraints.real:
        return ref.log_prob(z)
    inside = ref.support.check(z)
    safe = torch.where(inside, z, z.detach())
    return torch.where(inside, ref.log_prob(safe), -math.inf)


class ReferenceBank:
    """FIFO bank of the last K points' posterior parameters, the reference set of
    :func:`bank_log_qz` (module docstring: the estimate, its staleness, cost and memory).

    Args:
        size: K ≥ 1, the number of points held.

    State: ``index`` (K,) int64, each entry's dataset index (−1: empty); per latent site a dict
    of ``(K, D_s)`` parameter tensors (e.g. ``loc``, ``scale``); ``position``, the next slot.
    """

    def __init__(self, size: int = DEFAULT_BANK_SIZE) -> None:
        if isinstance(size, bool) or int(size) != size or size < 1:
            raise ValueError(f"bank_size must be a positive integer (e.g. 4096), got {size!r}")
        self.size = int(size)
        self.index = torch.full((self.size,), -1, dtype=torch.long)
        self.params: list[dict[str, torch.Tensor]] = []
        self.position = 0
        self.last_reference_size = 0  # R_bank of the last estimate
        self._pending: tuple[list[dict[str, torch.Tensor]], torch.Tensor] | None = None

    def __len__(self) -> int:
        """Number of filled entries."""
        return int((self.index >= 0).sum())

    def _check_sites(self, params: list[dict[str, torch.Tensor]]) -> None:
        stored = [(sorted(p), p[next(iter(p))].shape[-1]) for p in self.params]
        now = [(sorted(p), p[next(iter(p))].shape[-1]) for p in params]
        if self.params and stored != now:
            raise ValueError(
                f"the reference bank holds latent sites {stored} (parameter names, D) but the "
                f"guide now has {now}; use a new TCELBO for a different model"
            )

    def log_aggregate_posterior(
        self, parts: ELBOParts, indices: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``(log q̂(z_i), Σ_d log q̂(z_{i,d}))``, each (B,), for the batch of ``parts`` whose
        dataset indices are ``indices`` (B,). A call with gradients enabled (a training step)
        keeps the batch's parameters for the next :meth:`push`."""
        z = parts.latents()
        params = [_parameters(s.name, s.per_dim) for s in parts.sites]
        self._check_sites(params)
        indices = indices.reshape(-1).to(device=z.device, dtype=torch.long)
        blocks = []
        keep = None
        if self.params:
            self._to(z.device)
            keep = (self.index >= 0) & ~torch.isin(self.index, indices)
        for site, stored in zip(parts.sites, self.params or [None] * len(parts.sites)):
            if keep is None or not bool(keep.any()):
                blocks.append(z.new_zeros((z.shape[0], 0, site.latent_dim)))
                continue
            rows = {k: v[keep].to(site.value.dtype) for k, v in stored.items()}
            ref = _rebuild(site.name, site.per_dim, rows)
            blocks.append(_cross_log_density(ref, site.value))
        log_q_bank = torch.cat(blocks, dim=-1)
        self.last_reference_size = int(log_q_bank.shape[1])
        if torch.is_grad_enabled():
            detached = [{k: v.detach() for k, v in p.items()} for p in params]
            self._pending = (detached, indices.detach())
        return bank_log_qz(parts.pairwise_log_density(), log_q_bank, parts.num_data)

    def push_pending(self) -> None:
        """Push the batch kept by the last training call (no-op without one)."""
        if self._pending is not None:
            params, indices = self._pending
            self._pending = None
            self.push(params, indices)

    def push(self, params: list[dict[str, torch.Tensor]], indices: torch.Tensor) -> None:
        """Add a batch: per latent site a dict of (B, D_s) parameters, and (B,) dataset indices.

        Older entries of the same indices are dropped; the oldest slots are overwritten."""
        indices = indices.reshape(-1).long()
        if not self.params:
            self.params = [
                {k: v.new_zeros((self.size,) + tuple(v.shape[1:])) for k, v in p.items()}
                for p in params
            ]
            self.index = self.index.to(indices.device)
        self._to(indices.device)
        indices = indices[-self.size :]
        params = [{k: v[-self.size :] for k, v in p.items()} for p in params]
        self.index[torch.isin(self.index, indices)] = -1
        slots = (self.position + torch.arange(len(indices), device=indices.device)) % self.size
        self.index[slots] = indices
        for stored, new in zip(self.params, params):
            for k, v in new.items():
                stored[k][slots] = v.detach().to(stored[k].dtype)
        self.position = int((self.position + len(indices)) % self.size)

    def _to(self, device: torch.device) -> None:
        if self.index.device != device:
            self.index = self.index.to(device)
            self.params = [{k: v.to(device) for k, v in p.items()} for p in self.params]

    def state_dict(self) -> dict[str, Any]:
        """Tensors only (``torch.load(weights_only=True)``-safe)."""
        return {
            "size": self.size,
            "position": self.position,
            "index": self.index.clone(),
            "params": [{k: v.clone() for k, v in p.items()} for p in self.params],
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict` (the bank's size must match)."""
        if int(state["size"]) != self.size:
            raise ValueError(
                f"the checkpoint's reference bank holds {state['size']} points but this TCELBO "
                f"has bank_size={self.size}; construct it with bank_size={state['size']}"
            )
        self.position = int(state["position"])
        self.index = state["index"].clone()
        self.params = [{k: v.clone() for k, v in p.items()} for p in state["params"]]
        self._pending = None
