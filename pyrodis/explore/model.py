"""One model being explored: its decoder and encoder behind a lock, and what the page needs to
know of its latents, computed once at start-up (``docs/explore.rst``).

At start-up the guide encodes ``num_points`` images of the dataset (2,000 by default) into the
aggregate posterior q(z) = (1/M) Σ_m q(z|x_m) (:class:`~pyrodis.diagnostics.AggregatePosterior`);
from it come each latent's average KL (the slider order), whether it is active (the report's active
units, Burda et al. 2016: the variance of E[z_j|x] over the images is above 0.01; an inactive
latent ignores the image and is folded away),
the slider range (the 0.5 % and 99.5 % quantiles of the marginal q(z_j)) and, for a dataset with
factors, the factor each latent is most informative about with its normalised mutual information
MI(z_j; v_k) / H(v_k) (the discretised MI of the report, 20 equal-width bins, divided by the
factor's entropy).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np
import torch

from pyrodis.data import as_source
from pyrodis.diagnostics import AggregatePosterior
from pyrodis.diagnostics.latent_names import read_latent_names, write_latent_names
from pyrodis.metrics import discrete_entropy

__all__ = ["ACTIVITY_THRESHOLD", "ExploredModel"]

#: a latent whose posterior mean varies less than this over the images is inactive (folded away)
ACTIVITY_THRESHOLD = 0.01
RANGE_QUANTILES = (0.005, 0.995)


def _device(vae: Any) -> torch.device:
    first = next(iter(vae.parameters()), None) if hasattr(vae, "parameters") else None
    return first.device if first is not None else torch.device("cpu")


def _single_pair(vae: Any) -> tuple[Any, Any]:
    model = getattr(vae, "model_single", getattr(vae, "model", None))
    return model, getattr(vae, "guide_single", vae.guide)


class ExploredModel:
    """A VAE with ``encode(x) -> (loc, scale)`` and ``decode(z) -> images in [0, 1]``, its
    dataset, and the latent summary of its aggregate posterior.

    Args:
        vae: a pyrodis VAE (or any module with ``encode``, ``decode``, ``guide`` and ``model``).
        dataset: what the guide encodes: a ground-truth dataset, a tensor of images (N, C, H, W)
            or a map-style dataset (see :func:`pyrodis.data.as_source`).
        name: shown on the page.
        run_dir: the run directory whose ``latent_names.json`` holds the names; ``None``: names
            live in memory only.
        num_points, seed: images encoded at start-up and the seed choosing them.
        factors, factor_names: (N, K) factor labels for a dataset that carries none.
    """

    def __init__(
        self,
        vae: Any,
        dataset: Any,
        *,
        name: str = "model",
        run_dir: str | Path | None = None,
        num_points: int = 2_000,
        seed: int = 0,
        factors: np.ndarray | None = None,
        factor_names: list[str] | None = None,
    ) -> None:
        for attr in ("encode", "decode", "guide"):
            if not callable(getattr(vae, attr, None)):
                raise TypeError(
                    f"the explorer needs a VAE with encode, decode and guide methods (a "
                    f"pyrodis.models.VAE); {type(vae).__name__} has no {attr}"
                )
        self.vae, self.name, self.seed = vae, str(name), int(seed)
        self.run_dir = None if run_dir is None else Path(run_dir)
        self.device = _device(vae)
        self.source = as_source(dataset)
        if not self.source.indexable or self.source.num_data is None:
            raise TypeError("the explorer needs a dataset it can index (a tensor or a Dataset)")
        self.num_data = int(self.source.num_data)
        self._lock, self._names_lock = threading.Lock(), threading.Lock()
        if getattr(vae, "training", False):
            vae.eval()
        model, guide = _single_pair(vae)
        num = min(int(num_points), self.num_data)
        self.aggregate = AggregatePosterior.from_guide(
            guide, dataset, num_points=num, seed=seed, device=self.device, model=model,
            factors=factors, factor_names=factor_names,
        )  # fmt: skip
        self._summarise()
        saved = read_latent_names(self.run_dir) if self.run_dir is not None else {}
        self._names = {j: n for j, n in saved.items() if j < self.latent_dim}

    def _summarise(self) -> None:
        agg = self.aggregate
        self.latent_dim = agg.latent_dim
        self.kl = agg.kl_per_dim()
        self.order = [int(j) for j in agg.kl_order()]
        self.active = agg.active_units(ACTIVITY_THRESHOLD)
        samples = agg.sample(20_000, seed=self.seed).numpy()
        self.low, self.high = np.quantile(samples, RANGE_QUANTILES, axis=0)
        self.center, self.spread = samples.mean(0), np.maximum(samples.std(0), 1e-6)
        self.factor_names = list(agg.factor_names) if agg.factor_names is not None else None
        self.best_factor = self.best_mi = None
        if agg.factors is not None:
            entropy = discrete_entropy(agg.factors)
            mi = agg.mutual_information()
            with np.errstate(divide="ignore", invalid="ignore"):
                norm = np.where(entropy > 0, mi / entropy, 0.0)
            self.normalised_mi = norm
            self.best_factor = norm.argmax(1)
            self.best_mi = norm.max(1)
        self.image_shape = tuple(int(s) for s in self.observations([0]).shape[1:])

    # ------------------------------------------------------------------------------ the network
    def observations(self, indices) -> torch.Tensor:
        """Images of the dataset at ``indices``, (n, C, H, W) float32 on the CPU."""
        x = self.source.observations(np.asarray(indices, dtype=np.int64))
        return torch.as_tensor(x).float().cpu()

    def decode(self, codes: np.ndarray | torch.Tensor) -> torch.Tensor:
        """Mean images (n, C, H, W) in [0, 1] of codes (n, D): one decoder call, no gradients."""
        z = torch.as_tensor(np.asarray(codes, dtype=np.float32)).reshape(-1, self.latent_dim)
        with self._lock, torch.no_grad():
            return self.vae.decode(z.to(self.device)).float().clamp(0, 1).cpu()

    def encode(self, indices) -> np.ndarray:
        """Posterior means E[z|x] of the dataset images at ``indices``, (n, D) float64."""
        return self.encode_images(self.observations(indices))

    def encode_images(self, x: torch.Tensor) -> np.ndarray:
        """Posterior means E[z|x] of images ``x`` (n, C, H, W), (n, D) float64."""
        with self._lock, torch.no_grad():
            loc, _ = self.vae.encode(x.to(self.device))
        return loc.double().cpu().numpy()

    def start_code(self, kind: str, index: int | None, seed: int) -> tuple[np.ndarray, int | None]:
        """A starting code (D,): ``"data"`` (the mean code of image ``index``, random when
        ``None``), ``"prior"`` (a draw from p(z)) or ``"posterior"`` (a draw from q(z))."""
        if kind == "data":
            if index is None:
                index = int(np.random.default_rng(seed).integers(self.num_data))
            return self.encode([index])[0], int(index)
        if kind == "prior":
            return self.aggregate.sample_prior(1, seed=seed)[0].numpy(), None
        return self.aggregate.sample(1, seed=seed)[0].numpy(), None

    # --------------------------------------------------------------------------------- names
    def names(self) -> dict[int, str]:
        return dict(self._names)

    def set_name(self, latent: int, name: str) -> dict[int, str]:
        """Name latent ``latent`` (an empty name removes it) and save the names file."""
        with self._names_lock:
            names = dict(self._names)
            if name:
                names[int(latent)] = name
            else:
                names.pop(int(latent), None)
            if self.run_dir is not None:
                write_latent_names(self.run_dir, names)
            self._names = names
        return dict(names)

    # ------------------------------------------------------------------------------ summary
    def latents(self) -> list[dict[str, Any]]:
        """One record per latent, in KL order, for the page."""
        out = []
        for j in self.order:
            item = {
                "index": j,
                "kl": float(self.kl[j]),
                "active": bool(self.active[j]),
                "low": float(self.low[j]),
                "high": float(self.high[j]),
                "name": self._names.get(j, ""),
            }
            if self.best_factor is not None:
                item["factor"] = self.factor_names[int(self.best_factor[j])]
                item["factor_mi"] = float(self.best_mi[j])
            out.append(item)
        return out

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "latent_dim": self.latent_dim,
            "image_shape": list(self.image_shape),
            "num_data": self.num_data,
            "num_points": self.aggregate.num_points,
            "factor_names": self.factor_names,
            "names_saved": self.run_dir is not None,
            "latents": self.latents(),
        }
