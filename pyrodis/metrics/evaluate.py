"""``evaluate``: every metric of a representation on a ground-truth dataset, with repeats.

Each metric runs its reference protocol (``docs/metrics.rst``) with its own defaults.  The
representation is wrapped in a :class:`~pyrodis.metrics.sampling.CachedRepresentation`, so the
protocols that draw "num_train then num_test points in batches of 16" from the same integer seed
(MIG, DCI, SAP, modularity/explicitness, IRS, unsupervised) encode those points once — exactly
the samples each would draw alone.  With ``repeats`` > 1 the whole evaluation is repeated with
independent seeds spawned from ``seed`` by :class:`numpy.random.SeedSequence` and every sub-score
gets its mean, standard deviation (ddof 1) and a two-sided Student-t confidence interval over the
repeats (mean ± t_{(1+level)/2, r-1} · std / sqrt(r)).
"""

from __future__ import annotations

import difflib
import inspect
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .beta_vae import beta_vae
from .dci import dci
from .factor_vae import factor_vae
from .ground_truth import has_factors
from .irs import irs
from .mig import mig
from .modularity import modularity
from .sampling import CachedRepresentation, Representation
from .sap import sap
from .unsupervised import unsupervised


def _mig_chen(representation, dataset, seed, posterior=None, **kwargs):
    return mig(representation, dataset, seed, protocol="chen", posterior=posterior, **kwargs)


_PROTOCOLS: dict[str, tuple[str, Callable]] = {
    "beta_vae": (
        "BetaVAE score (Higgins 2017): accuracy of a linear classifier predicting the "
        "fixed factor from mean |r(x1)-r(x2)|",
        beta_vae,
    ),
    "factor_vae": (
        "FactorVAE score (Kim & Mnih 2018): majority-vote accuracy of the "
        "least-varying normalised code",
        factor_vae,
    ),
    "mig": (
        "Mutual Information Gap (Chen 2018), discrete 20-bin protocol of Locatello 2019",
        mig,
    ),
    "mig_chen": (
        "Mutual Information Gap, Chen 2018's own estimator on posterior samples (needs posterior=)",
        _mig_chen,
    ),
    "dci": (
        "DCI (Eastwood & Williams 2018): disentanglement, completeness, informativeness "
        "from gradient-boosted trees",
        dci,
    ),
    "sap": (
        "SAP (Kumar 2018): mean gap between the two codes that best predict each factor "
        "with a linear SVM",
        sap,
    ),
    "modularity": ("Modularity and explicitness (Ridgeway & Mozer 2018)", modularity),
    "irs": ("Interventional Robustness Score (Suter 2019)", irs),
    "unsupervised": (
        "Gaussian total correlation, Wasserstein dependency, mean pairwise MI, "
        "active units (Locatello 2019; Burda 2015)",
        unsupervised,
    ),
}

METRICS: dict[str, str] = {name: spec[0] for name, spec in _PROTOCOLS.items()}
DEFAULT_METRICS: tuple[str, ...] = tuple(n for n in METRICS if n != "mig_chen")


def metric_keywords(name: str) -> list[str]:
    """The protocol keywords ``options[name]`` may set: those of the metric's function."""
    function = mig if name == "mig_chen" else _PROTOCOLS[name][1]
    fixed = {"representation", "dataset", "seed"} | ({"protocol"} if name == "mig_chen" else set())
    kinds = (inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    params = inspect.signature(function).parameters.values()
    return [p.name for p in params if p.kind in kinds and p.name not in fixed]


def check_options(metrics: Sequence[str] = (), options: Mapping[str, Any] | None = None) -> None:
    """Refuse unknown metric names and protocol keywords before anything is computed (a typo
    otherwise surfaces only when the metric runs); the error names the fix."""
    unknown = [n for n in metrics if n not in METRICS]
    if unknown:
        close = difflib.get_close_matches(unknown[0], list(METRICS), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ValueError(f"unknown metrics {unknown}{hint}; choose from {sorted(METRICS)}")
    for name, values in (options or {}).items():
        if name not in METRICS:
            raise ValueError(
                f"options given for unknown metric {name!r}; choose from {sorted(METRICS)}"
            )
        if not isinstance(values, Mapping):
            raise ValueError(
                f"the options of {name} must be a table of keywords (e.g. {{num_train = 1000}}), "
                f"got {values!r}"
            )
        allowed = metric_keywords(name)
        for key in values:
            if key not in allowed:
                close = difflib.get_close_matches(str(key), allowed, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise ValueError(
                    f"unknown {name} option {key!r}{hint}; {name} takes {', '.join(allowed)}"
                )


@dataclass
class EvaluationResult:
    """Scores per metric and sub-score over the repeats.

    ``values[metric][sub_score]`` is the list of values, one per repeat; ``seeds`` the seed of
    each repeat; ``seconds[metric]`` the wall time summed over repeats (code sets shared between
    protocols are charged to the first metric that draws them).
    """

    values: dict[str, dict[str, list[float]]]
    seeds: list[int]
    level: float = 0.95
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def repeats(self) -> int:
        return len(self.seeds)

    def summary(self, metric: str, sub_score: str) -> dict[str, float]:
        """``value`` (the mean), and with repeats > 1 ``mean``, ``std``, ``ci_low``, ``ci_high``."""
        vals = np.asarray(self.values[metric][sub_score], dtype=np.float64)
        out = {"value": float(vals.mean())}
        if len(vals) > 1:
            from scipy.stats import t

            std = float(vals.std(ddof=1))
            half = float(t.ppf((1 + self.level) / 2, len(vals) - 1)) * std / np.sqrt(len(vals))
            out.update(
                mean=out["value"], std=std, ci_low=out["value"] - half, ci_high=out["value"] + half
            )
        return out

    def __getitem__(self, metric: str) -> dict[str, float]:
        """``result["dci"]["disentanglement"]`` → the (mean) value."""
        return {sub: self.summary(metric, sub)["value"] for sub in self.values[metric]}

    def to_dict(self) -> dict[str, dict[str, dict[str, float]]]:
        """JSON-serialisable ``{metric: {sub_score: {"value", ["mean", "std", "ci_low",
        "ci_high"]}}}``."""
        return {m: {s: self.summary(m, s) for s in subs} for m, subs in self.values.items()}

    def table(self) -> str:
        """A plain-text table: metric, sub-score, value and (repeats > 1) the interval."""
        rows = [
            ("metric", "score", "value", f"{int(self.level * 100)}% CI" if self.repeats > 1 else "")
        ]
        for metric, subs in self.values.items():
            for sub in subs:
                s = self.summary(metric, sub)
                ci = f"[{s['ci_low']:.4f}, {s['ci_high']:.4f}]" if "ci_low" in s else ""
                rows.append((metric, sub, f"{s['value']:.4f}", ci))
        widths = [max(len(r[i]) for r in rows) for i in range(4)]
        lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
        return "\n".join(lines)


def repeat_seeds(seed: int | None, repeats: int) -> list[int]:
    """The seed itself for one repeat; otherwise ``repeats`` independent integer seeds spawned
    from ``SeedSequence(seed)``."""
    if repeats < 1:
        raise ValueError(f"repeats must be >= 1, got {repeats}")
    if repeats == 1 and seed is not None:
        return [int(seed)]
    children = np.random.SeedSequence(seed).spawn(repeats)
    return [int(c.generate_state(1, dtype=np.uint32)[0]) for c in children]


#: the metrics computed from codes alone, which also run on a dataset without factors
CODE_ONLY_METRICS: tuple[str, ...] = ("unsupervised",)


def _check_factors_known(dataset, names: Sequence[str]) -> None:
    needs = [n for n in names if n not in CODE_ONLY_METRICS]
    if needs and not has_factors(dataset):
        raise ValueError(
            f"the metrics {needs} compare codes with ground-truth factors, and "
            f"{type(dataset).__name__} has none; compute {list(CODE_ONLY_METRICS)} on it, or "
            "attach the labels you have (pyrodis.data.read_labels) and evaluate those"
        )


def evaluate(
    representation: Representation,
    dataset,
    metrics: Sequence[str] | None = None,
    seed: int | None = 0,
    repeats: int = 1,
    *,
    posterior=None,
    options: dict[str, dict] | None = None,
    level: float = 0.95,
) -> EvaluationResult:
    """Evaluate a representation with the reference protocols.

    Args:
        representation: callable(observations (n, C, H, W) float32 tensor) -> codes (n, d)
            (numpy or torch): the encoder mean for the reference numbers, a posterior sample for
            the "sampled" representation.
        dataset: ground-truth dataset (``factor_sizes``, ``sample_factors``, ``observations``);
            a dataset without factors (``len``, ``observations(indices)``) takes only
            :data:`CODE_ONLY_METRICS`.
        metrics: names from :data:`METRICS`; default all but ``"mig_chen"``.
        seed: integer seed (repeat seeds are spawned from it; see :func:`repeat_seeds`).
        repeats: independent evaluation draws.
        posterior: callable(observations) -> (loc, scale), needed by ``"mig_chen"``.
        options: per-metric keyword overrides, e.g. ``{"dci": {"num_train": 1000}}`` (entries
            for metrics not selected are ignored).
        level: confidence level of the intervals.
    """
    names = list(DEFAULT_METRICS if metrics is None else metrics)
    check_options(names, options)
    _check_factors_known(dataset, names)
    options = dict(options or {})
    if "mig_chen" in names:
        if posterior is None:
            raise ValueError("metric 'mig_chen' needs posterior=callable(obs) -> (loc, scale)")
        options["mig_chen"] = {"posterior": posterior, **options.get("mig_chen", {})}
    seeds = repeat_seeds(seed, repeats)
    cached = CachedRepresentation(representation)
    values: dict[str, dict[str, list[float]]] = {n: {} for n in names}
    seconds = dict.fromkeys(names, 0.0)
    for rep_seed in seeds:
        for name in names:
            start = time.perf_counter()
            scores = _PROTOCOLS[name][1](cached, dataset, rep_seed, **options.get(name, {}))
            seconds[name] += time.perf_counter() - start
            for sub, value in scores.items():
                values[name].setdefault(sub, []).append(float(value))
    return EvaluationResult(values, seeds, level, seconds)
