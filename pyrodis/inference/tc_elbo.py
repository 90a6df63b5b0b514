"""β-TCVAE: the KL split into index-code MI, total correlation and dimension-wise KL.

Chen et al. (2018) decompose the KL term averaged over the data (n the data index)::

    E_n KL(q(z|n) ‖ p(z)) = I_q(z; n) + TC(z) + Σ_j KL(q(z_j) ‖ p(z_j))

and minimise, per data point i with z_i ~ q(z | x_i)::

    R + α·[log q(z_i|x_i) − log q(z_i)]            # MI
      + β·[log q(z_i) − Σ_j log q(z_ij)]          # TC
      + γ·[Σ_j log q(z_ij) − log p(z_i)]          # dimension-wise KL

with log q(z) and Σ_j log q(z_j) estimated on the batch by minibatch stratified (``"mss"``) or
weighted (``"mws"``) sampling (:mod:`pyrodis.inference.tc_estimators`), using the dataset size N
read from the data plate, or against a bank of the last K points' posteriors (``"bank"``,
:mod:`pyrodis.inference.tc_reference_bank`), whose estimate the batch size does not bias
downwards as much (``docs/objectives.rst``, "Why is tc negative"). Per sample the three terms telescope to log q(z|x) − log p(z), so with
α = β = γ = 1 the loss equals ``Trace_ELBO``'s whatever the estimator. (With a prior that does
not factorise, the last term is E[Σ_j log q(z_j) − log p(z)], not a sum of KLs.)
Paper settings on dSprites: α = γ = 1, β = 6.

Reference: Chen, Li, Grosse, Duvenaud, "Isolating sources of disentanglement in variational
autoencoders", NeurIPS 2018.
"""

from __future__ import annotations

import warnings
from typing import Any

import torch

from pyrodis.inference.base import DisentanglingELBO, check_hyperparameter
from pyrodis.inference.elbo_parts import ELBOParts
from pyrodis.inference.latent_sites import LatentSiteError
from pyrodis.inference.tc_estimators import ESTIMATORS, log_aggregate_posterior
from pyrodis.inference.tc_reference_bank import DEFAULT_BANK_SIZE, ReferenceBank, SubsampleRecorder

__all__ = ["TC_ESTIMATORS", "TCELBO"]

#: every estimator ``TCELBO(estimator=...)`` accepts: the published two and the bank
TC_ESTIMATORS = {
    **ESTIMATORS,
    "bank": "stratified: own term exact + the batch and a bank of the last K points' posteriors",
}


class TCELBO(DisentanglingELBO):
    """β-TCVAE loss.

    Args:
        alpha: weight of the index-code mutual information (≥ 0).
        beta: weight of the total correlation (≥ 0).
        gamma: weight of the dimension-wise KL (≥ 0).
        estimator: ``"mss"`` (minibatch stratified sampling, the default), ``"mws"``
            (weighted) or ``"bank"`` (a bank of recent posteriors, :class:`ReferenceBank`).
        bank_size: K, the points the bank holds (``"bank"`` only; default 4096).
        latent_sites: as for every pyrodis ELBO (:class:`~pyrodis.inference.DisentanglingELBO`).
        data_plate: as for every pyrodis ELBO.
        **elbo_kwargs: as for every pyrodis ELBO.

    Needs batches of at least 2 points drawn from a dataset whose size is the data plate's
    ``size=`` (use full batches: ``drop_last=True``).

    ``last_terms``: ``loss``, ``recon``, ``kl``, ``mi``, ``tc``, ``dwkl`` (per data point;
    mi + tc + dwkl = kl). ``mi``, ``tc`` and ``dwkl`` are the estimator's estimates, biased at
    small batches (``docs/objectives.rst``): :attr:`estimate_label` names the estimator and
    :attr:`term_labels` gives display names (``tc_mss``...). The bank is part of
    :meth:`state_dict`, so a resumed run continues with the same losses; it needs the data
    plate's subsample indices (``pyro.plate(name, size=N, subsample=indices)``).

    Points masked by ``poutine.mask`` contribute no term and are no reference point of the
    estimators, which see the B' unmasked points of a dataset of N' = N·B'/B (``"bank"`` refuses
    masked sites). With a prior that does not factorise, ``dwkl`` is not a KL: a warning says so
    once (``docs/contract.rst``).
    """

    def __init__(
        self,
        alpha: float = 1.0,
        beta: float = 6.0,
        gamma: float = 1.0,
        estimator: str = "mss",
        bank_size: int | None = None,
        latent_sites=None,
        data_plate: str | None = None,
        **elbo_kwargs: Any,
    ):
        super().__init__(latent_sites=latent_sites, data_plate=data_plate, **elbo_kwargs)
        self.alpha = check_hyperparameter("alpha", alpha)
        self.beta = check_hyperparameter("beta", beta)
        self.gamma = check_hyperparameter("gamma", gamma)
        if estimator not in TC_ESTIMATORS:
            raise ValueError(f"estimator must be one of {sorted(TC_ESTIMATORS)}, got {estimator!r}")
        if bank_size is not None and estimator != "bank":
            raise ValueError(f"bank_size is used only with estimator='bank', not {estimator!r}")
        self.estimator = estimator
        self._warned = False
        self.bank = None
        if estimator == "bank":
            self.bank = ReferenceBank(DEFAULT_BANK_SIZE if bank_size is None else bank_size)
        self._indices: dict[str, torch.Tensor] = {}

    @property
    def estimate_label(self) -> str:
        """Which estimator produced ``mi``/``tc``/``dwkl``, e.g. ``"mss"`` or ``"bank(4096)"``."""
        return self.estimator if self.bank is None else f"bank({self.bank.size})"

    @property
    def term_labels(self) -> dict[str, str]:
        """Display names of the estimated terms: ``{"mi": "mi_mss", "tc": "tc_mss", ...}``."""
        return {k: f"{k}_{self.estimator}" for k in ("mi", "tc", "dwkl")}

    def _get_trace(self, model, guide, args, kwargs):
        if self.bank is None:
            return super()._get_trace(model, guide, args, kwargs)
        with SubsampleRecorder() as recorder:
            traces = super()._get_trace(model, guide, args, kwargs)
        self._indices = recorder.indices
        return traces

    def _log_qz(
        self, parts: ELBOParts, kept: torch.Tensor | None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        if self.bank is None:
            pairs = parts.pairwise_log_density()
            if kept is not None:
                pairs = pairs[kept][:, kept]
            return log_aggregate_posterior(pairs, parts.kept_data_size(), self.estimator)
        if kept is not None:
            raise LatentSiteError(
                "estimator='bank' does not take latent sites masked by poutine.mask: use "
                "estimator='mss' or 'mws' (docs/contract.rst)"
            )
        indices = self._indices.get(parts.sites[0].plate)
        if indices is None or indices.numel() != parts.batch_size:
            raise ValueError(
                f"estimator='bank' needs the dataset index of every batch point: sample the "
                f"latents inside pyro.plate({parts.sites[0].plate!r}, size=N, subsample=indices)"
            )
        return self.bank.log_aggregate_posterior(parts, indices)

    def _after_step(self) -> None:
        if self.bank is not None:
            self.bank.push_pending()

    def _latent_loss(self, parts: ELBOParts) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        log_q, log_p = parts.log_q, parts.log_p
        kept = parts.kept()  # masked points: no term, no reference point (docs/contract.rst)
        if kept is not None:
            if len(kept) == 0:
                zero = log_q.new_zeros(())
                return zero, {"mi": zero, "tc": zero, "dwkl": zero}
            if len(kept) == 1:
                raise LatentSiteError(
                    "only one point of the batch is unmasked (poutine.mask): the total-"
                    "correlation estimators need at least 2; use larger batches"
                )
            log_q, log_p = log_q[kept], log_p[kept]
        self._warn_if_not_factorised(parts)
        log_qz, log_prod = self._log_qz(parts, kept)
        mi = parts.scatter(log_q - log_qz)
        tc = parts.scatter(log_qz - log_prod)
        dwkl = parts.scatter(log_prod - log_p)
        loss = parts.to_dataset(self.alpha * mi + self.beta * tc + self.gamma * dwkl)
        return loss, {"mi": mi.mean(), "tc": tc.mean(), "dwkl": dwkl.mean()}

    def _warn_if_not_factorised(self, parts: ELBOParts) -> None:
        if self._warned:  # checked once, on the first call
            return
        self._warned = True
        if all(s.prior is None or s.prior_per_dim is not None for s in parts.sites):
            return
        warnings.warn(
            "TCELBO: the prior does not factorise over the latent dimensions (e.g. a mixture "
            "over the whole vector), so the reported 'dwkl' is E[Σ_j log q(z_j) − log p(z)], not "
            "a sum of KLs (mi + tc + dwkl is still the KL); the diagnostics give the KL to this "
            "prior by Monte Carlo: AggregatePosterior.kl_to(prior)",
            UserWarning,
            stacklevel=6,
        )

    def state_dict(self) -> dict[str, Any]:
        state = super().state_dict()
        if self.bank is not None:
            state["bank"] = self.bank.state_dict()
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        if self.bank is not None and "bank" in state:
            self.bank.load_state_dict(state["bank"])

    def beta_norm(self, num_pixels: int | None = None, latent_dim: int | None = None) -> float:
        """β·M/N for the TC weight β; sizes default to those of the last call."""
        return self._beta_norm(self.beta, num_pixels, latent_dim)
